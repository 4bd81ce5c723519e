"""The ceiling a case-per-event design can reach on this Temporal server: a minimal
case-shaped workflow (started by signal-with-start, one workflow task with one local activity,
then a timer), run by a worker process of its own, sandboxed as tuoyu's worker runs or
unsandboxed. tuoyu's whole path is compared with it (`bench/throughput.py`): what remains
between the two is the sandbox's per-run work and tuoyu's own activities.

With `writes=True` its one local activity does what a case's opening writes in tuoyu: the
real `open_case` and the first `record_step` ("case.dispatched", with its audit records,
notification and outbox rows) on a SQLite database of its own, as `bench/opening.py` calls
them. That prices the writes on the same worker, in the same run: the rate no workflow code
that keeps them in the Temporal worker can pass, however little else it does.

    python -m bench.minimal_case --worker --task-queue Q --n N [--unsandboxed] [--writes]

runs the worker alone; `minimal_case_rate()` starts one, drives N workflows and times them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from infra.settings import Settings
    from infra.temporal import connect

NAME = "BenchMinimalCase"


@activity.defn(name="bench_minimal_record")
def record(case: str) -> str:
    """Stands for open_case: one call, one result, no I/O."""
    done = record.count = getattr(record, "count", 0) + 1  # type: ignore[attr-defined]
    if done == record.target:  # type: ignore[attr-defined]
        print(f"done {time.time():.6f}", flush=True)
    return case


class OpeningWrites:
    """tuoyu's opening (open_case, then case.dispatched) on a fresh database of its own."""

    def __init__(self) -> None:
        import tempfile
        from pathlib import Path

        from infra.db import make_engine, session_factory
        from infra.deadlines import load_policy
        from infra.migrate import prepare_database
        from infra.vault import Vault
        from workflows.cases.activities import CaseActivities

        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='tuoyu-minimal-')) / 'opening.db'}"
        prepare_database(url)
        self.activities = CaseActivities(
            session_factory(make_engine(url)), load_policy(), Vault(os.urandom(32))
        )
        self.run = uuid.uuid4().hex[:8]

    def __call__(self, case: str) -> str:
        from bench.opening import dispatched, open_input

        i = int(case.rsplit(" ", 1)[-1])
        params = open_input(i, self.run)
        self.activities.record_step(dispatched(params, self.activities.open_case(params)))
        return case


WRITES: OpeningWrites | None = None


@activity.defn(name="bench_minimal_record")
def record_with_writes(case: str) -> str:
    """Stands for open_case and the first record_step, doing their writes."""
    assert WRITES is not None
    return record(WRITES(case))


@workflow.defn(name=NAME)
class MinimalCase:
    def __init__(self) -> None:
        self._complaint: str | None = None

    @workflow.signal
    def complaint(self, text: str) -> None:
        self._complaint = text

    @workflow.run
    async def run(self, local_activities: int = 1) -> None:
        await workflow.wait_condition(lambda: self._complaint is not None)
        for _ in range(local_activities):  # one after the other, in the one workflow task
            await workflow.execute_local_activity(
                record, self._complaint or "", start_to_close_timeout=timedelta(seconds=30)
            )
        await workflow.sleep(timedelta(days=1))  # the acceptance deadline


async def serve(
    settings: Settings, task_queue: str, n: int, sandboxed: bool, writes: bool = False
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    global WRITES
    record.target = n  # type: ignore[attr-defined]
    if writes:
        WRITES = OpeningWrites()
    client = await connect(settings)
    options = {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}
    with ThreadPoolExecutor(settings.temporal_activity_threads) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[MinimalCase],
            activities=[record_with_writes if writes else record],
            activity_executor=executor,
            max_concurrent_workflow_tasks=settings.temporal_max_workflow_tasks,
            **options,  # type: ignore[arg-type]
        )
        print("ready", flush=True)
        await worker.run()


async def minimal_case_rate(
    settings: Settings,
    n: int,
    concurrency: int,
    sandboxed: bool,
    local_activities: int = 1,
    writes: bool = False,
) -> float:
    """Workflows per second from the first start to the last local activity done.
    `local_activities=2` prices a second step at a case's opening (open, then record);
    `writes` has the local activity do tuoyu's opening writes."""
    task_queue = f"bench-minimal-{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-m", "bench.minimal_case", "--worker", "--task-queue", task_queue]
    argv += ["--n", str(n * local_activities)] + ([] if sandboxed else ["--unsandboxed"])
    argv += ["--writes"] if writes else []
    from workers.stack import child_env

    proc = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **child_env(settings)}, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await proc.stdout.readline()).decode()
        assert line.strip() == "ready", line
        client = await connect(settings)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def starter() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await client.start_workflow(
                    NAME,
                    local_activities,
                    id=f"{task_queue}-{i}",
                    task_queue=task_queue,
                    start_signal="complaint",
                    start_signal_args=[f"complaint {i}"],
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )

        begin = time.time()
        await asyncio.gather(*(starter() for _ in range(concurrency)))
        done = (await proc.stdout.readline()).decode()
        assert done.startswith("done "), done
        return n / (float(done.split()[1]) - begin)
    finally:
        proc.terminate()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--unsandboxed", action="store_true")
    parser.add_argument("--writes", action="store_true", help="tuoyu's opening writes")
    args = parser.parse_args()
    asyncio.run(serve(Settings(), args.task_queue, args.n, not args.unsandboxed, args.writes))


if __name__ == "__main__":
    main()
