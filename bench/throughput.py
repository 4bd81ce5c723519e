"""Throughput of the whole path against bare Temporal signal-with-start, in one run.

    python -m bench.throughput --n 2000

Starts its own stack (embedded defaults, free ports, a temporary data dir), then
1. baseline: N signal-with-starts of an empty workflow on a task queue no worker polls, with
   the same concurrency the stream worker uses: the rate the Temporal server alone accepts;
2. whole path: N complaints produced to `tuoyu.complaints`, timed from the first produce to
   the N-th dispatch recorded in the database (faust agent, signal-with-start, workflow,
   local activities, database, Kafka); and, within it, the intake: to the N-th case workflow
   started (Temporal visibility).
Prints events/s for both and their ratio; writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import func, select
from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy

from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.process import free_port
from infra.settings import Settings
from infra.temporal import connect
from models import topics
from models.notifications import NotificationRecord
from workers.stack import Stack


@workflow.defn(name="BenchNoop")
class BenchNoop:
    @workflow.run
    async def run(self) -> None:
        return None


async def bare_signal_with_start(settings: Settings, n: int, concurrency: int) -> float:
    client = await connect(settings)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    run_id = uuid.uuid4().hex[:8]

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await client.start_workflow(
                "BenchNoop",
                id=f"bench-{run_id}-{i}",
                task_queue="bench-no-worker",
                start_signal="ping",
                start_signal_args=[{"i": i}],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def whole_path(settings: Settings, n: int) -> tuple[float, float]:
    """Returns (intake rate: Kafka to workflow started, whole path rate: to dispatch recorded)."""
    client = await connect(settings)
    engine = make_engine(settings.resolved_database_url)
    sessions = session_factory(engine)

    def recorded() -> int:
        with sessions() as session:
            return session.exec(select(func.count()).select_from(NotificationRecord)).one()

    async def started() -> int:
        return (await client.count_workflows("WorkflowType = 'CaseWorkflow'")).count

    recorded_before, started_before = recorded(), await started()
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    towns = ["town-lushan", "town-zhouxi", "street-ximen", "street-dashizi", "zone-lubi"]
    batch = uuid.uuid4().hex[:8]
    messages = [
        (
            f"bench-{i}",
            json.dumps(
                {
                    "event_id": f"bench-{uuid.uuid4()}",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "channel": "hotline",
                    "category": "health-management",  # ordinary: one dispatch per case
                    "town": towns[i % len(towns)],
                    # Distinct per complaint, across runs: duplicates would merge.
                    "institution_name": f"测试托育机构{batch}-{i}",
                    "description": "基准测试投诉",
                },
                ensure_ascii=False,
            ).encode(),
        )
        for i in range(n)
    ]
    begin = time.perf_counter()
    publisher.publish_all(topics.COMPLAINTS, messages)
    intake_elapsed = None
    while True:
        if intake_elapsed is None and await started() - started_before >= n:
            intake_elapsed = time.perf_counter() - begin
        if recorded() - recorded_before >= n:
            break
        await asyncio.sleep(0.05)
    path_elapsed = time.perf_counter() - begin
    publisher.close()
    engine.dispose()
    return n / (intake_elapsed or path_elapsed), n / path_elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--broker", default="tansu", choices=["tansu", "kafka"])
    parser.add_argument("--out", type=Path, default=Path("bench/results/throughput.json"))
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tuoyu-bench-"))
    settings = Settings(
        data_dir=data_dir,
        broker=args.broker,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        temporal_address=f"127.0.0.1:{free_port()}",
        http_port=free_port(),
        log_level="WARNING",
    )
    stack = Stack(settings, temporal_ui=False).start()
    try:
        asyncio.run(whole_path(settings, 50))  # warm-up: consumer group joined, workers hot
        intake_rate, path_rate = asyncio.run(whole_path(settings, args.n))
        bare_rate = asyncio.run(
            bare_signal_with_start(settings, args.n, settings.intake_max_in_flight)
        )
    finally:
        stack.stop()
    ratio = path_rate / bare_rate
    result = {
        "n": args.n,
        "broker": args.broker,
        "database": "sqlite",
        "whole_path_events_per_s": round(path_rate, 1),
        "intake_events_per_s": round(intake_rate, 1),
        "bare_signal_with_start_per_s": round(bare_rate, 1),
        "ratio": round(ratio, 3),
        "at": datetime.now(UTC).isoformat(),
    }
    print(f"{'measure':<34}{'events/s':>10}")
    print(f"{'whole path (Kafka -> dispatch)':<34}{path_rate:>10.1f}")
    print(f"{'  of which intake (-> started)':<34}{intake_rate:>10.1f}")
    print(f"{'bare signal-with-start':<34}{bare_rate:>10.1f}")
    print(f"{'ratio (target >= 0.9)':<34}{ratio:>10.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
