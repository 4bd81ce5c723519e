"""The whole stack under a realistic mix of inbound events, measured against Temporal driven
directly in the same run.

    python -m bench.harness                         # 2,000-event mix, 60 s latency, 10,000 backlog,
                                                    # a 2,000-alarm SIP burst
    python -m bench.harness --soak-minutes 30       # and a 30-minute soak at half capacity
    python -m bench.harness --parts drain --backlog 10000   # one part alone
    python -m bench.harness --topology both --n 300 --latency-seconds 30
                          # the embedded stack, then the cluster: throughput and latency,
                          # one column each

Starts its own stack (free ports, a temporary data dir; `--topology` embedded, the default,
or cluster: three Kafka nodes, the Temporal server on PostgreSQL, two stream and two Temporal
workers, bench/topologies.py) and measures:

1. mix throughput: complaints (70 %), inspection reports with a serious and a minor finding
   (10 %), camera alarms (10 %) and staff-hired registry events (10 %) produced to their topics,
   timed to the last case opened and the last registry event applied. Then N complaints
   through the whole path against the same number handed to the same workflows by direct
   signal-with-start (target ratio >= 0.9: the streaming path costs Temporal's capacity
   little), bare signal-with-start of an empty workflow no worker runs (the server's
   ceiling for any workflow-per-event design), and the minimal case-shaped workflow of
   `bench/minimal_case.py` sandboxed and unsandboxed (the ceiling of a case-per-event
   design: target whole path >= 0.9 x the unsandboxed one);
2. latency at half of the measured capacity: complaints POSTed to the API, from the 202 to the
   dispatch's timestamp on `tuoyu.notifications`, p50 and p99 (target p99 < 250 ms), split at
   the dispatch's outbox row (202 -> written, written -> relayed);
3. drain: the stream worker stopped, a backlog produced, the worker started, timed to the
   last case opened;
4. burst: alarms sent over SIP UDP by registered devices (`bench/sip_burst.py`), each
   answered 200 found on the topic and in its case, with the drain time;
5. soak: half-capacity load for the given minutes, the RSS of every process sampled (target
   growth < 10 %).

`throughput` is the part of 1 the topologies are compared on: the complaints' whole path
and the minimal case, sandboxed and unsandboxed, without the mix, direct and bare.
Prints a table (a column per topology) and writes everything to
`bench/results/harness.json` (with `both`: topology -> its figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psutil

from bench import sip_burst, topologies
from bench.harness_table import report
from bench.latency import latency
from bench.load import Probe, complaint, mix, now, wait
from bench.minimal_case import minimal_case_rate
from bench.throughput import bare_signal_with_start, direct, whole_path
from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.users import add_user
from models import topics
from models.actors import Role
from workers.stack import Stack

# What the topologies are compared on: the SIP burst and the drain are the embedded stack's.
COMPARED = {"throughput", "latency"}


async def drain_backlog(stack: Stack, probe: Probe, backlog: int) -> dict[str, Any]:
    worker = stack.workers["stream-worker"]
    await asyncio.to_thread(worker.stop)
    publisher = KafkaPublisher(stack.settings.kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    for start in range(0, backlog, 1000):
        publisher.publish_all(
            topics.COMPLAINTS,
            [(f"{run}-c{i}", complaint(i, run)) for i in range(start, min(start + 1000, backlog))],
        )
    publisher.close()
    before = probe.cases()
    begin = time.perf_counter()
    stack.start_worker("stream-worker", "workers.stream_worker")
    await wait(lambda: probe.cases() - before >= backlog)
    elapsed = time.perf_counter() - begin
    return {
        "backlog": backlog,
        "seconds": round(elapsed, 1),
        "events_per_s": round(backlog / elapsed, 1),
    }


def rss(stack: Stack) -> dict[str, int]:
    """Resident memory of every process the stack runs (with its children), in bytes."""
    found: dict[str, int] = {}
    for proc in [*stack.servers, *stack.workers.values()]:
        if proc.pid is None:
            continue
        try:
            root = psutil.Process(proc.pid)
            found[proc.name] = sum(
                p.memory_info().rss for p in [root, *root.children(recursive=True)]
            )
        except psutil.NoSuchProcess:
            continue
    return found


async def soak(stack: Stack, probe: Probe, rate: float, minutes: float) -> dict[str, Any]:
    """Half-capacity load through Kafka; RSS sampled every 30 s. Growth is measured from the
    sample after the first two minutes (caches and pools filled) to the last."""
    publisher = KafkaPublisher(stack.settings.kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    samples: list[tuple[float, dict[str, int]]] = []
    start = time.perf_counter()
    sent = 0
    next_sample = 0.0
    while (elapsed := time.perf_counter() - start) < minutes * 60:
        due = int(elapsed * rate)
        if due > sent:
            publisher.publish_all(
                topics.COMPLAINTS, [(f"{run}-c{i}", complaint(i, run)) for i in range(sent, due)]
            )
            sent = due
        if elapsed >= next_sample:
            samples.append((elapsed, rss(stack)))
            next_sample += 30
        await asyncio.sleep(0.1)
    publisher.close()
    samples.append((time.perf_counter() - start, rss(stack)))
    baseline = next((s for t, s in samples if t >= min(120, minutes * 30)), samples[0][1])
    final = samples[-1][1]
    growth = {
        name: round((final[name] - baseline[name]) / baseline[name] * 100, 1)
        for name in final
        if baseline.get(name)
    }
    return {
        "minutes": minutes,
        "rate_per_s": round(rate, 1),
        "sent": sent,
        "rss_mb_baseline": {k: round(v / 2**20, 1) for k, v in baseline.items()},
        "rss_mb_final": {k: round(v / 2**20, 1) for k, v in final.items()},
        "growth_percent": growth,
        "samples": [
            {"t_s": round(t, 1), "rss_mb": {k: round(v / 2**20, 1) for k, v in s.items()}}
            for t, s in samples
        ],
    }


async def run(args: argparse.Namespace, topology: str, stack: Stack) -> dict[str, Any]:
    settings = stack.settings
    engine = make_engine(settings.resolved_database_url, writer=False)
    probe = Probe(session_factory(engine))
    with session_factory(make_engine(settings.resolved_database_url))() as session:
        _, token = add_user(session, "bench-operator", Role.OPERATOR, None)
    await mix(stack, probe, 100)  # warm-up: groups joined, workers hot
    result: dict[str, Any] = {
        "at": now(),
        "topology": topology,
        "broker": args.broker,
        "database": args.database,
        "stream_workers": settings.stream_workers,
        "temporal_workers": settings.temporal_workers,
        "partitions": settings.topic_partitions,
    }
    # The machine is shared: every figure goes with the load it was measured under.
    result["load_average_1min"] = {"start": round(os.getloadavg()[0], 2)}
    concurrency = settings.intake_max_in_flight
    throughput = bool(args.parts & {"mix", "throughput"})
    if "mix" in args.parts:
        result["mix"] = await mix(stack, probe, args.n)
    if throughput:
        result["complaints_whole_path_per_s"] = round((await whole_path(settings, args.n))[1], 1)
    if "mix" in args.parts:
        result["complaints_direct_per_s"] = round(await direct(settings, args.n, concurrency), 1)
        result["bare_signal_with_start_per_s"] = round(
            await bare_signal_with_start(settings, args.n, concurrency), 1
        )
        result["ratio_to_direct"] = round(
            result["complaints_whole_path_per_s"] / result["complaints_direct_per_s"], 3
        )
        result["ratio_to_bare"] = round(
            result["mix"]["events_per_s"] / result["bare_signal_with_start_per_s"], 3
        )
    if throughput:
        # The ceiling of a case-per-event design on this server: the smallest case-shaped
        # workflow, run by a worker of its own, with and without the sandbox.
        for name, sandboxed in (("sandboxed", True), ("unsandboxed", False)):
            rate = await minimal_case_rate(settings, args.n, concurrency, sandboxed)
            result[f"minimal_case_{name}_per_s"] = round(rate, 1)
            result[f"ratio_to_minimal_{name}"] = round(
                result["complaints_whole_path_per_s"] / rate, 3
            )
        # The same with tuoyu's opening writes in its local activity: what those writes
        # alone leave of the ceiling for any design that keeps them in the Temporal worker.
        rate = await minimal_case_rate(settings, args.n, concurrency, False, writes=True)
        result["minimal_case_with_opening_writes_per_s"] = round(rate, 1)
        result["minimal_with_writes_to_minimal_unsandboxed"] = round(
            rate / result["minimal_case_unsandboxed_per_s"], 3
        )
        result["ratio_to_minimal_with_opening_writes"] = round(
            result["complaints_whole_path_per_s"] / rate, 3
        )
    # Half of the capacity measured here (the mix, else the complaints' whole path), or of
    # the figure given when neither is run.
    if "mix" in result:
        half = result["mix"]["events_per_s"] / 2
    elif throughput:
        half = result["complaints_whole_path_per_s"] / 2
    else:
        half = args.capacity / 2
    if "latency" in args.parts:
        result["latency"] = await latency(stack, probe, token, half, args.latency_seconds)
    if "drain" in args.parts:
        result["drain"] = await drain_backlog(stack, probe, args.backlog)
    if "burst" in args.parts:
        result["burst"] = await sip_burst.burst(stack, args.burst_alarms, args.burst_seconds)
    if args.soak_minutes > 0:
        result["soak"] = await soak(stack, probe, half, args.soak_minutes)
    engine.dispose()
    result["load_average_1min"]["end"] = round(os.getloadavg()[0], 2)
    return result


def start_stack(args: argparse.Namespace, topology: str) -> AbstractContextManager[Stack]:
    """The stack every part runs against, on free ports and a temporary data dir: `embedded`
    or `cluster` (bench/topologies.py), with its own database."""
    return topologies.running(topology, args.broker, args.database)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="events in the mix")
    parser.add_argument("--latency-seconds", type=float, default=60)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--soak-minutes", type=float, default=0)
    parser.add_argument(
        "--topology",
        default="embedded",
        choices=[*topologies.TOPOLOGIES, "both"],
        help="both: the embedded stack, then the cluster, with the same parts and N",
    )
    parser.add_argument(
        "--parts",
        type=lambda v: set(v.split(",")),
        default=None,
        help="comma-separated, of mix,throughput,latency,drain,burst (throughput: the whole "
        "path and the minimal case, a part of mix; the soak runs when --soak-minutes > 0). "
        "Default: mix,latency,drain,burst on the embedded stack, throughput,latency otherwise",
    )
    parser.add_argument("--burst-alarms", type=int, default=2000)
    parser.add_argument("--burst-seconds", type=float, default=2.0)
    parser.add_argument(
        "--capacity", type=float, default=20.0, help="events/s assumed when mix is not run"
    )
    parser.add_argument(
        "--broker",
        default=None,
        choices=["tansu", "kafka"],
        help="the embedded stack's broker (default: tansu; kafka when the cluster is measured)",
    )
    parser.add_argument(
        "--database",
        default=None,
        choices=["sqlite", "postgresql"],
        help="the application's database (default: sqlite; postgresql when the cluster is "
        "measured, so that the columns differ in their topology only)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/harness.json"))
    args = parser.parse_args()
    embedded_only = args.topology == "embedded"
    if args.parts is None:
        args.parts = {"mix", "latency", "drain", "burst"} if embedded_only else COMPARED
    args.broker = args.broker or ("tansu" if embedded_only else "kafka")
    args.database = args.database or ("sqlite" if embedded_only else "postgresql")
    results: dict[str, dict[str, Any]] = {}
    for topology in topologies.TOPOLOGIES if args.topology == "both" else [args.topology]:
        with start_stack(args, topology) as stack:
            results[topology] = asyncio.run(run(args, topology, stack))
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # One topology: its figures, as before; both: topology -> its figures.
    written = results if len(results) > 1 else next(iter(results.values()))
    args.out.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
