"""The Temporal worker process: case workflows, their activities, and the outbox relay that
publishes what the activities wrote (infra/outbox.py)."""

from __future__ import annotations

import asyncio
import compileall
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.worker import PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import models
import workflows
from infra import credit_platform, shutdown
from infra.audit_witness import sign_and_witness
from infra.claim_check import ClaimCheckStore
from infra.db import SessionFactory, make_engine, session_factory
from infra.deadlines import load_enforcement, load_policy
from infra.kafka import KafkaPublisher
from infra.logs import configure as configure_logging
from infra.outbox import Relay
from infra.poison import DeterministicErrors
from infra.settings import Settings, get_settings
from infra.signing import AuditSigner, load_signer
from infra.temporal import connect_when_up, runtime_with_metrics
from infra.vault import load_vault
from workflows.alarms.activities import AlarmActivities
from workflows.alarms.workflows import AlarmWorkflow
from workflows.cases import search
from workflows.cases.activities import CaseActivities
from workflows.cases.workflows import CaseWorkflow
from workflows.enforcement.activities import EnforcementActivities
from workflows.enforcement.bans.workflows import BanCorrectionWorkflow
from workflows.enforcement.credit.workflows import JointPunishmentWorkflow
from workflows.enforcement.decisions.workflows import EnforcementWorkflow
from workflows.inspections.activities import InspectionActivities
from workflows.inspections.workflows import InspectionWorkflow
from workflows.parking.activities import ParkingActivities
from workflows.registry.activities import RegistryActivities
from workflows.registry.starter import ensure_yearly_recheck
from workflows.registry.workflows import (
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
    InstitutionRegistryWorkflow,
    RegistryEventWorkflow,
)

WORKFLOWS = [
    CaseWorkflow,
    EnforcementWorkflow,
    JointPunishmentWorkflow,
    BanCorrectionWorkflow,
    RegistryEventWorkflow,
    InstitutionRegistryWorkflow,
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
    InspectionWorkflow,
    AlarmWorkflow,
]

# The sandbox imports each workflow's module afresh for every run unless it is passed through:
# measured with py-spy under the throughput bench, re-executing workflows/cases/workflows.py
# (its class body and `@workflow.defn`'s inspection of every method) took 29 % of the worker's
# busy time. Our workflow packages and models are deterministic and side-effect free at import
# (workflow modules import only temporalio, stdlib and models; no module-level state), so
# they are imported once, by this process. It also means a run never mixes workflow code read
# from disk after the start with older activities (docs/operations.md). The tests and the
# replay tests run the same workflows under the default, stricter sandbox, which still catches
# a non-deterministic call in workflow code.
# TUOYU_TEMPORAL_SANDBOX_PASSTHROUGH=false goes back to the default (the bench compares both).
PASSED_THROUGH = ("workflows", "models")
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
)

log = logging.getLogger("tuoyu.temporal_worker")
CHECKPOINT_EVERY = 60.0  # seconds


async def run(settings: Settings, stop: asyncio.Event) -> None:
    client = await connect_when_up(settings, runtime_with_metrics(settings))
    engine = make_engine(settings.resolved_database_url)
    publisher = KafkaPublisher.for_settings(settings)
    sessions = session_factory(engine)
    vault = load_vault(settings)
    cases = CaseActivities(sessions, load_policy(settings.deadlines_file), vault)
    enforcement = EnforcementActivities(
        sessions,
        load_enforcement(settings.enforcement_file),
        credit_platform.from_url(settings.credit_platform_url),
    )
    registry = RegistryActivities(sessions)
    inspections = InspectionActivities(sessions)
    claims = ClaimCheckStore(settings.data_dir, settings.dead_letter_max_bytes)
    alarms = AlarmActivities(sessions, claims)
    parking = ParkingActivities(sessions, claims)
    await ensure_yearly_recheck(client, settings.temporal_task_queue)
    # Case workflows upsert these; on a server without them every case's task would fail.
    await search.register(client, settings.temporal_namespace)
    # The activities write what they publish into the outbox; this thread sends it to Kafka.
    readers = make_engine(settings.resolved_database_url, writer=False)
    relay = Relay(
        sessions,
        engine,
        publisher,
        batch=settings.outbox_batch,
        retention=timedelta(days=settings.outbox_retention_days),
        readers=session_factory(readers),
    )
    relay_stop = threading.Event()
    relaying = asyncio.create_task(
        asyncio.to_thread(relay.run, relay_stop, settings.outbox_poll_seconds)
    )
    try:
        threads = settings.temporal_activity_threads
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="activity") as executor:
            worker = Worker(
                client,
                task_queue=settings.temporal_task_queue,
                workflows=WORKFLOWS,
                activities=[
                    *cases.all(),
                    *enforcement.all(),
                    *registry.all(),
                    *inspections.all(),
                    *alarms.all(),
                    *parking.all(),
                ],
                activity_executor=executor,
                interceptors=[DeterministicErrors()],
                workflow_runner=(
                    WORKFLOW_RUNNER
                    if settings.temporal_sandbox_passthrough
                    else SandboxedWorkflowRunner()
                ),
                max_concurrent_workflow_tasks=settings.temporal_max_workflow_tasks,
                # The SDK's default is 5 polls, 1 of them on the task queue itself (the rest on
                # this worker's sticky queue): behind a backlog (a burst of 2,000 alarms) the
                # server then hands out one new workflow's task per poll round trip, 0.85 to
                # 2.4 a second measured, with this worker idle. One poll per task slot, half
                # on the task queue.
                workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(
                    settings.temporal_max_workflow_tasks
                ),
                nonsticky_to_sticky_poll_ratio=1.0,
                max_concurrent_local_activities=threads,
                max_concurrent_activities=threads,
            )
            async with worker:
                log.info("Temporal worker ready on task queue %s", settings.temporal_task_queue)
                signing = asyncio.create_task(
                    sign_checkpoints(settings, sessions, load_signer(settings), publisher)
                )
                await stop.wait()
                signing.cancel()
    finally:
        relay_stop.set()
        await relaying
        publisher.close()
        readers.dispose()
        engine.dispose()


async def sign_checkpoints(
    settings: Settings, sessions: SessionFactory, signer: AuditSigner, publisher: KafkaPublisher
) -> None:
    """Every minute, sign the audit log's tree head if it grew and witness it outside the
    database (DATA_DIR/audit/witness.jsonl, then tuoyu.audit-checkpoints)."""
    while True:
        await asyncio.sleep(CHECKPOINT_EVERY)
        try:
            await asyncio.to_thread(sign_and_witness, settings, sessions, signer, publisher)
        except Exception:  # the next round tries again; writers are never held up by this
            log.exception("could not sign an audit checkpoint")


def compile_workflow_modules() -> None:
    """The sandbox imports the workflow modules afresh for every workflow run; without
    bytecode on disk (PYTHONDONTWRITEBYTECODE, a read-only checkout) each run compiles them
    from source, a sixth of the worker's time under load."""
    for package in (workflows, models):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def main() -> None:
    settings = get_settings()
    shutdown.early_handlers(settings.stop_budget, "temporal-worker")
    compile_workflow_modules()
    configure_logging(settings.log_level)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # Leaving `async with Worker` waits for the server; one that stopped answering held
        # this process for 30 s (measured), so the stop has a budget.
        shutdown.backstop(settings.stop_budget, "temporal-worker")
        await run(settings, stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
