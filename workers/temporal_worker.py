"""The Temporal worker process: case workflows and their activities."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from infra import credit_platform
from infra.db import make_engine, session_factory
from infra.deadlines import load_enforcement, load_policy
from infra.kafka import KafkaPublisher
from infra.logs import configure as configure_logging
from infra.settings import Settings, get_settings
from infra.temporal import connect
from workflows.cases.activities import CaseActivities
from workflows.cases.workflows import CaseWorkflow
from workflows.enforcement.activities import EnforcementActivities
from workflows.enforcement.workflows import (
    BanCorrectionWorkflow,
    EnforcementWorkflow,
    JointPunishmentWorkflow,
)
from workflows.registry.activities import RegistryActivities
from workflows.registry.starter import ensure_yearly_recheck
from workflows.registry.workflows import (
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
    RegistryEventWorkflow,
)

WORKFLOWS = [
    CaseWorkflow,
    EnforcementWorkflow,
    JointPunishmentWorkflow,
    BanCorrectionWorkflow,
    RegistryEventWorkflow,
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
]

log = logging.getLogger("tuoyu.temporal_worker")


async def run(settings: Settings, stop: asyncio.Event) -> None:
    client = await connect(settings)
    engine = make_engine(settings.resolved_database_url)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    sessions = session_factory(engine)
    cases = CaseActivities(sessions, publisher, load_policy(settings.deadlines_file))
    enforcement = EnforcementActivities(
        sessions,
        publisher,
        load_enforcement(settings.enforcement_file),
        credit_platform.from_url(settings.credit_platform_url),
    )
    registry = RegistryActivities(sessions, publisher)
    await ensure_yearly_recheck(client, settings.temporal_task_queue)
    try:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="activity") as executor:
            worker = Worker(
                client,
                task_queue=settings.temporal_task_queue,
                workflows=WORKFLOWS,
                activities=[*cases.all(), *enforcement.all(), *registry.all()],
                activity_executor=executor,
            )
            async with worker:
                log.info("Temporal worker ready on task queue %s", settings.temporal_task_queue)
                await stop.wait()
    finally:
        publisher.close()
        engine.dispose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
