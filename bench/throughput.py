"""Throughput of the whole path against Temporal driven directly, in one run.

    python -m bench.throughput --n 2000

Starts its own stack (embedded defaults, free ports, a temporary data dir), then
1. whole path: N complaints produced to `tuoyu.complaints`, timed from the first produce to
   the N-th dispatch recorded in the database (faust agent, signal-with-start, workflow,
   local activities, database, Kafka); and, within it, the intake: to the N-th case workflow
   started (Temporal visibility);
2. direct: N other complaints handed to the same case workflows by signal-with-start from
   this process (no HTTP, Kafka or faust), with the concurrency the stream worker uses, timed
   the same way: what the streaming path costs is the gap between 1 and 2;
3. bare: N signal-with-starts of an empty workflow on a task queue no worker polls: the rate
   the Temporal server alone accepts starts;
4. minimal case (`bench/minimal_case.py`): N workflows of the smallest case shape (one
   workflow task with one local activity, then a timer) run by a worker process of their
   own, sandboxed and unsandboxed: the ceiling of a case-per-event design on this server,
   against which the whole path is measured; and the same unsandboxed with tuoyu's opening
   writes in its local activity (`open_case` and the first `record_step`, real rows on a
   database of its own): how far below the minimal case those writes alone put any design
   that keeps them in the Temporal worker.
Prints events/s and the ratios; writes the figures as JSON. The machine may be shared:
`--rounds k` runs every measure k times, each round's ratios taken within the round (the
minimal case right after the whole path), and prints the medians with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import func, select
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from bench.minimal_case import minimal_case_rate
from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.process import free_port
from infra.settings import Settings
from infra.temporal import connect
from models import topics
from models.complaints import Category, Channel, ComplaintReceived
from models.notifications import NotificationRecord
from workers.stack import Stack
from workflows.cases.starter import submit_complaint


@workflow.defn(name="BenchNoop")
class BenchNoop:
    @workflow.run
    async def run(self) -> None:
        return None


def bench_settings(broker: str) -> Settings:
    return Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="tuoyu-bench-")),
        broker=broker,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        temporal_address=f"127.0.0.1:{free_port()}",
        http_port=free_port(),
        sip_port=free_port(),
        temporal_metrics_port=free_port(),
        stream_metrics_port=free_port(),
        sip_metrics_port=free_port(),
        log_level="WARNING",
    )


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


TOWNS = ["town-lushan", "town-zhouxi", "street-ximen", "street-dashizi", "zone-lubi"]


def complaints(n: int) -> list[ComplaintReceived]:
    batch = uuid.uuid4().hex[:8]
    return [
        ComplaintReceived(
            event_id=f"bench-{uuid.uuid4()}",
            occurred_at=datetime.now(UTC),
            channel=Channel.HOTLINE,
            category=Category.HEALTH_MANAGEMENT,  # ordinary: one dispatch per case
            town=TOWNS[i % len(TOWNS)],
            # Distinct per complaint, across runs: duplicates would merge.
            institution_name=f"测试托育机构{batch}-{i}",
            description="基准测试投诉",
        )
        for i in range(n)
    ]


class Dispatches:
    """Counts dispatches recorded, and case workflows started, since it was made."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.client = client
        self.engine = make_engine(settings.resolved_database_url, writer=False)
        self.sessions = session_factory(self.engine)
        self.recorded_before = self.recorded()

    def recorded(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(NotificationRecord)).one()

    async def started(self) -> int:
        return (await self.client.count_workflows("WorkflowType = 'CaseWorkflow'")).count

    async def wait(self, n: int) -> None:
        while True:
            if self.recorded() - self.recorded_before >= n:
                break
            await asyncio.sleep(0.05)
        self.engine.dispose()


async def whole_path(settings: Settings, n: int) -> tuple[float, float]:
    """Returns (intake rate: Kafka to workflow started, whole path rate: to dispatch recorded)."""
    client = await connect(settings)
    dispatches = Dispatches(settings, client)
    started_before = await dispatches.started()
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    messages = [(c.event_id, c.model_dump_json().encode()) for c in complaints(n)]
    begin = time.perf_counter()
    publisher.publish_all(topics.COMPLAINTS, messages)
    intake_elapsed = None
    while intake_elapsed is None:
        if await dispatches.started() - started_before >= n:
            intake_elapsed = time.perf_counter() - begin
        await asyncio.sleep(0.05)
    await dispatches.wait(n)
    path_elapsed = time.perf_counter() - begin
    publisher.close()
    return n / intake_elapsed, n / path_elapsed


async def direct(settings: Settings, n: int, concurrency: int) -> float:
    """The same complaints handed to their workflows from here; to the N-th dispatch."""
    client = await connect(settings)
    dispatches = Dispatches(settings, client)
    queue: asyncio.Queue[ComplaintReceived] = asyncio.Queue()
    for c in complaints(n):
        queue.put_nowait(c)

    async def worker() -> None:
        while not queue.empty():
            await submit_complaint(client, queue.get_nowait(), settings.temporal_task_queue)

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await dispatches.wait(n)
    return n / (time.perf_counter() - begin)


MEASURES = {
    "whole_path": "whole path (Kafka -> dispatch)",
    "intake": "  of which intake (-> started)",
    "direct": "direct signal-with-start (-> dispatch)",
    "bare": "bare signal-with-start (no worker)",
    "minimal_sandboxed": "minimal case, sandboxed",
    "minimal_unsandboxed": "minimal case, unsandboxed",
    "minimal_writes": "minimal case + tuoyu's opening writes",
}


def restart_temporal_worker(stack: Stack, passthrough: bool) -> None:
    worker = stack.workers["temporal-worker"]
    worker.stop()
    env = {"TUOYU_TEMPORAL_SANDBOX_PASSTHROUGH": str(passthrough).lower()}
    stack.start_worker("temporal-worker", "workers.temporal_worker", env)


async def one_round(
    stack: Stack, n: int, concurrency: int, compare_sandbox: bool
) -> dict[str, float]:
    """Every measure once, the minimal case right after the whole path so that both see
    nearly the same load on a shared machine. `compare_sandbox`: the whole path also with
    the worker's workflow modules imported afresh per run (the default sandbox)."""
    settings = stack.settings
    rates: dict[str, float] = {}
    rates["intake"], rates["whole_path"] = await whole_path(settings, n)
    if compare_sandbox:
        await asyncio.to_thread(restart_temporal_worker, stack, False)
        await whole_path(settings, 20)  # the new worker polling
        _, rates["whole_path_default_sandbox"] = await whole_path(settings, n)
        await asyncio.to_thread(restart_temporal_worker, stack, True)
        await whole_path(settings, 20)
    rates["minimal_unsandboxed"] = await minimal_case_rate(settings, n, concurrency, False)
    rates["minimal_sandboxed"] = await minimal_case_rate(settings, n, concurrency, True)
    rates["minimal_writes"] = await minimal_case_rate(settings, n, concurrency, False, writes=True)
    rates["direct"] = await direct(settings, n, concurrency)
    rates["bare"] = await bare_signal_with_start(settings, n, concurrency)
    rates["load_1min"] = os.getloadavg()[0]
    return rates


def summarise(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Medians of the rates and of each round's ratios (a ratio is taken within one round)."""
    out = {k: statistics.median(r[k] for r in rounds) for k in [*MEASURES, "load_1min"]}
    if all("whole_path_default_sandbox" in r for r in rounds):
        out["whole_path_default_sandbox"] = statistics.median(
            r["whole_path_default_sandbox"] for r in rounds
        )
        out["ratio_default_sandbox_to_minimal_unsandboxed"] = statistics.median(
            r["whole_path_default_sandbox"] / r["minimal_unsandboxed"] for r in rounds
        )
    for name, base in (
        ("direct", "direct"),
        ("bare", "bare"),
        ("minimal_sandboxed", "minimal_sandboxed"),
        ("minimal_unsandboxed", "minimal_unsandboxed"),
        ("minimal_writes", "minimal_writes"),
    ):
        out[f"ratio_to_{name}"] = statistics.median(r["whole_path"] / r[base] for r in rounds)
    # What the opening's writes alone leave of the minimal case: the ceiling of the target.
    out["writes_ceiling"] = statistics.median(
        r["minimal_writes"] / r["minimal_unsandboxed"] for r in rounds
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="every measure this many times; medians printed"
    )
    parser.add_argument(
        "--compare-sandbox",
        action="store_true",
        help="also the whole path with TUOYU_TEMPORAL_SANDBOX_PASSTHROUGH=false, each round",
    )
    parser.add_argument("--broker", default="tansu", choices=["tansu", "kafka"])
    parser.add_argument("--out", type=Path, default=Path("bench/results/throughput.json"))
    args = parser.parse_args()

    settings = bench_settings(args.broker)
    stack = Stack(settings, temporal_ui=False).start()
    concurrency = settings.intake_max_in_flight
    load = [os.getloadavg()[0]]  # the machine is shared: every figure goes with its load
    rounds: list[dict[str, float]] = []
    try:
        asyncio.run(whole_path(settings, 50))  # warm-up: consumer group joined, workers hot
        for _ in range(args.rounds):
            rounds.append(asyncio.run(one_round(stack, args.n, concurrency, args.compare_sandbox)))
    finally:
        stack.stop()
    load.append(os.getloadavg()[0])
    m = summarise(rounds)
    result: dict[str, Any] = {
        "n": args.n,
        "rounds": args.rounds,
        "broker": args.broker,
        "database": "sqlite",
        "whole_path_events_per_s": round(m["whole_path"], 1),
        "intake_events_per_s": round(m["intake"], 1),
        "direct_signal_with_start_per_s": round(m["direct"], 1),
        "bare_signal_with_start_per_s": round(m["bare"], 1),
        "minimal_case_sandboxed_per_s": round(m["minimal_sandboxed"], 1),
        "minimal_case_unsandboxed_per_s": round(m["minimal_unsandboxed"], 1),
        "minimal_case_with_opening_writes_per_s": round(m["minimal_writes"], 1),
        "ratio_to_direct": round(m["ratio_to_direct"], 3),
        "ratio_to_bare": round(m["ratio_to_bare"], 3),
        "ratio_to_minimal_sandboxed": round(m["ratio_to_minimal_sandboxed"], 3),
        "ratio_to_minimal_unsandboxed": round(m["ratio_to_minimal_unsandboxed"], 3),
        "ratio_to_minimal_with_opening_writes": round(m["ratio_to_minimal_writes"], 3),
        "minimal_with_writes_to_minimal_unsandboxed": round(m["writes_ceiling"], 3),
        **{
            k: round(m[k], 3)
            for k in ("whole_path_default_sandbox", "ratio_default_sandbox_to_minimal_unsandboxed")
            if k in m
        },
        "load_average_1min": {"before": round(load[0], 2), "after": round(load[1], 2)},
        "per_round": [{k: round(v, 2) for k, v in r.items()} for r in rounds],
        "at": datetime.now(UTC).isoformat(),
    }
    print(f"{'measure':<42}{'events/s':>10}")
    for key, name in MEASURES.items():
        print(f"{name:<42}{m[key]:>10.1f}")
    print(f"{'ratio to direct (target >= 0.9)':<42}{m['ratio_to_direct']:>10.3f}")
    print(f"{'ratio to bare':<42}{m['ratio_to_bare']:>10.3f}")
    print(
        f"{'whole path ÷ minimal case (unsandboxed)':<42}{m['ratio_to_minimal_unsandboxed']:>10.3f}"
    )
    print(f"{'  target':<42}{'>= 0.9':>10}")
    print(f"{'minimal + writes ÷ minimal (the ceiling)':<42}{m['writes_ceiling']:>10.3f}")
    print(f"{'whole path ÷ minimal case + writes':<42}{m['ratio_to_minimal_writes']:>10.3f}")
    if "whole_path_default_sandbox" in m:
        print(
            f"{'whole path, default sandbox (before)':<42}{m['whole_path_default_sandbox']:>10.1f}"
        )
        ratio = m["ratio_default_sandbox_to_minimal_unsandboxed"]
        print(f"{'  ÷ minimal case (unsandboxed)':<42}{ratio:>10.3f}")
    print(f"{'whole path ÷ minimal case (sandboxed)':<42}{m['ratio_to_minimal_sandboxed']:>10.3f}")
    print(f"{'load average (1 min) before, after':<42}{load[0]:>5.2f}{load[1]:>5.2f}")
    if args.rounds > 1:
        print("per round (events/s; load):")
        for r in rounds:
            print("  " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
