"""The Temporal worker process: case workflows and their activities."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from infra.db import make_engine, session_factory
from infra.deadlines import load_policy
from infra.kafka import KafkaPublisher
from infra.logs import configure as configure_logging
from infra.settings import Settings, get_settings
from infra.temporal import connect
from workflows.cases.activities import CaseActivities
from workflows.cases.workflows import CaseWorkflow

log = logging.getLogger("tuoyu.temporal_worker")


async def run(settings: Settings, stop: asyncio.Event) -> None:
    client = await connect(settings)
    engine = make_engine(settings.resolved_database_url)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    activities = CaseActivities(
        session_factory(engine), publisher, load_policy(settings.deadlines_file)
    )
    try:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="activity") as executor:
            worker = Worker(
                client,
                task_queue=settings.temporal_task_queue,
                workflows=[CaseWorkflow],
                activities=activities.all(),
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
