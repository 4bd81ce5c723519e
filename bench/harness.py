"""The whole stack under a realistic mix of inbound events, measured against Temporal driven
directly in the same run.

    python -m bench.harness                         # 2,000-event mix, 60 s latency, 10,000 backlog
    python -m bench.harness --soak-minutes 30       # and a 30-minute soak at half capacity
    python -m bench.harness --parts drain --backlog 10000   # one part alone

Starts its own stack (embedded defaults, free ports, a temporary data dir) and measures:

1. mix throughput: complaints (70 %), inspection reports with a serious and a minor finding
   (10 %), camera alarms (10 %) and staff-hired registry events (10 %) produced to their topics,
   timed to the last case opened and the last registry event applied. Then N complaints
   through the whole path against the same number handed to the same workflows by direct
   signal-with-start (target ratio >= 0.9: the streaming path costs Temporal's capacity
   little), and bare signal-with-start of an empty workflow no worker runs (the server's
   ceiling for any workflow-per-event design);
2. latency at half of the measured capacity: complaints POSTed to the API, from the 202 to the
   dispatch's timestamp on `tuoyu.notifications`, p50 and p99 (target p99 < 1 s);
3. drain: the stream worker stopped, a backlog produced, the worker started, timed to the
   last case opened;
4. soak: half-capacity load for the given minutes, the RSS of every process sampled (target
   growth < 10 %).

Prints a table and writes everything to `bench/results/harness.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table
from sqlmodel import func, select

from bench.minimal_case import minimal_case_rate
from bench.throughput import bare_signal_with_start, bench_settings, direct, whole_path
from infra.db import SessionFactory, make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.users import add_user
from models import topics
from models.actors import Role
from models.camera import Device
from models.cases import Case
from models.staff import Employment
from workers.stack import Stack

console = Console()
TOWNS = ["town-lushan", "town-wanchao", "street-ximen", "street-dashizi", "zone-lubi"]


def now() -> str:
    return datetime.now(UTC).isoformat()


def identity_number(seed: int) -> str:
    weights, check = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], "10X98765432"
    body = f"5226011990{seed % 10**7:07d}"
    return body + check[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


class Probe:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def cases(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Case)).one()

    def devices(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Device)).one()

    def employments(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Employment)).one()


async def wait(check: Callable[[], bool], limit: float = 3600) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the stack did not finish in time")
        await asyncio.sleep(0.1)


def complaint(i: int, run: str) -> bytes:
    return json.dumps(
        {
            "event_id": f"{run}-c{i}",
            "occurred_at": now(),
            "channel": "hotline",
            "category": "health-management",
            "town": TOWNS[i % len(TOWNS)],
            "institution_name": f"基准托育机构{run}-{i}",  # distinct: duplicates would merge
            "description": "基准测试投诉",
        },
        ensure_ascii=False,
    ).encode()


async def registry_setup(
    publisher: KafkaPublisher, probe: Probe, run: str, institutions: int, devices: int
) -> tuple[list[str], list[str]]:
    """Institutions, and one camera per alarm to send (so that each alarm is a case)."""
    ids = [f"{run}-inst{i}" for i in range(institutions)]
    events = [
        (
            inst,
            json.dumps(
                {
                    "type": "institution-registered",
                    "event_id": f"{run}-reg-{inst}",
                    "occurred_at": now(),
                    "institution_id": inst,
                    "name": f"基准机构{inst}",
                    "town": TOWNS[i % len(TOWNS)],
                    "registrar": "samr",
                },
                ensure_ascii=False,
            ).encode(),
        )
        for i, inst in enumerate(ids)
    ]
    cameras = [f"5226010000132{run[-4:]}{i:03d}" for i in range(devices)]
    events += [
        (
            ids[i % len(ids)],
            json.dumps(
                {
                    "type": "device-registered",
                    "event_id": f"{run}-dev-{cam}",
                    "occurred_at": now(),
                    "device_id": cam,
                    "institution_id": ids[i % len(ids)],
                }
            ).encode(),
        )
        for i, cam in enumerate(cameras)
    ]
    before = probe.devices()
    publisher.publish_all(topics.REGISTRY, events)

    def registered() -> bool:
        return probe.devices() - before >= devices

    await wait(registered)
    return ids, cameras


async def mix(stack: Stack, probe: Probe, n: int) -> dict[str, Any]:
    publisher = KafkaPublisher(stack.settings.kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    kinds = [i % 10 for i in range(n)]
    alarms, inspections = kinds.count(8), kinds.count(7)
    registry, complaints = kinds.count(9), n - kinds.count(7) - kinds.count(8) - kinds.count(9)
    institutions, cameras = await registry_setup(publisher, probe, run, 50, alarms)
    batches: dict[str, list[tuple[str, bytes]]] = {t: [] for t in topics.INBOUND}
    camera = iter(cameras)
    for i, kind in enumerate(kinds):
        inst = institutions[i % len(institutions)]
        if kind == 7:
            batches[topics.INSPECTIONS].append(
                (
                    inst,
                    json.dumps(
                        {
                            "event_id": f"{run}-i{i}",
                            "occurred_at": now(),
                            "kind": "spot-check",
                            "institution_id": f"{inst}-x{i}",  # one case per report
                            "town": TOWNS[i % len(TOWNS)],
                            "inspector_unit": "health",
                            "findings": [{"code": "fire-safety"}, {"code": "disinfection"}],
                        }
                    ).encode(),
                )
            )
        elif kind == 8:
            device = next(camera)
            batches[topics.CAMERA_ALARMS].append(
                (
                    device,
                    json.dumps(
                        {
                            "event_id": f"{run}-a{i}",
                            "occurred_at": now(),
                            "kind": "intrusion",
                            "device_id": device,
                            "alarm_priority": 3,
                        }
                    ).encode(),
                )
            )
        elif kind == 9:
            batches[topics.REGISTRY].append(
                (
                    inst,
                    json.dumps(
                        {
                            "type": "staff-hired",
                            "event_id": f"{run}-s{i}",
                            "occurred_at": now(),
                            "institution_id": inst,
                            "person": {"id_number": identity_number(i), "name": f"员工{i}"},
                            "role": "caregiver",
                        },
                        ensure_ascii=False,
                    ).encode(),
                )
            )
        else:
            batches[topics.COMPLAINTS].append((f"{run}-c{i}", complaint(i, run)))
    cases_before, staff_before = probe.cases(), probe.employments()
    expected_cases = complaints + inspections + alarms
    begin = time.perf_counter()
    for topic, messages in batches.items():
        publisher.publish_all(topic, messages)
    await wait(
        lambda: (
            probe.cases() - cases_before >= expected_cases
            and probe.employments() - staff_before >= registry
        )
    )
    elapsed = time.perf_counter() - begin
    publisher.close()
    return {
        "events": n,
        "complaints": complaints,
        "inspections": inspections,
        "alarms": alarms,
        "registry": registry,
        "seconds": round(elapsed, 2),
        "events_per_s": round(n / elapsed, 1),
    }


async def latency(stack: Stack, token: str, rate: float, seconds: float) -> dict[str, Any]:
    """Complaints POSTed at `rate`/s; latency = dispatch timestamp on the topic - HTTP 202."""
    settings = stack.settings
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    parts = [
        TopicPartition(topics.NOTIFICATIONS, p)
        for p in consumer.partitions_for_topic(topics.NOTIFICATIONS) or ()
    ]
    consumer.assign(parts)
    consumer.seek_to_end()
    for tp in parts:
        consumer.position(tp)
    accepted: dict[str, float] = {}
    dispatched: dict[str, float] = {}
    base = f"http://{settings.http_host}:{settings.http_port}"
    run = uuid.uuid4().hex[:8]

    def drain() -> None:
        for batch in consumer.poll(timeout_ms=100).values():
            for record in batch:
                note = json.loads(record.value)
                if note["kind"] == "dispatch" and note["case_id"] in accepted:
                    dispatched.setdefault(note["case_id"], record.timestamp / 1000)

    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:

        async def one(i: int) -> None:
            body = json.loads(complaint(i, run))
            body.pop("event_id")
            response = await client.post("/api/v1/complaints", json=body)
            response.raise_for_status()
            accepted[response.json()["case_id"]] = time.time()

        tasks = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds:
            tasks.append(asyncio.create_task(one(i)))
            i += 1
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            if i % 20 == 0:
                await asyncio.to_thread(drain)
        await asyncio.gather(*tasks)
    deadline = time.monotonic() + 300
    while len(dispatched) < len(accepted) and time.monotonic() < deadline:
        await asyncio.to_thread(drain)
    consumer.close()
    values = sorted(dispatched[c] - accepted[c] for c in dispatched)
    return {
        "rate_per_s": round(rate, 1),
        "sent": len(accepted),
        "dispatched": len(dispatched),
        "p50_s": round(statistics.median(values), 3),
        "p99_s": round(values[min(len(values) - 1, int(len(values) * 0.99))], 3),
        "max_s": round(values[-1], 3),
    }


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


def report(result: dict[str, Any]) -> None:
    table = Table(title="tuoyu bench harness", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    if "mix" in result:
        m = result["mix"]
        table.add_row("mix through the whole path", f"{m['events_per_s']} events/s", "")
        table.add_row(
            "complaints through the whole path",
            f"{result['complaints_whole_path_per_s']} /s",
            "",
        )
        table.add_row(
            "same complaints by direct signal-with-start",
            f"{result['complaints_direct_per_s']} /s",
            "",
        )
        table.add_row("ratio whole path / direct", f"{result['ratio_to_direct']:.3f}", ">= 0.9")
        table.add_row(
            "bare signal-with-start (no worker)",
            f"{result['bare_signal_with_start_per_s']} /s",
            "",
        )
        table.add_row("ratio mix / bare", f"{result['ratio_to_bare']:.3f}", "")
        for name in ("sandboxed", "unsandboxed"):
            table.add_row(
                f"minimal case-shaped workflow, {name}",
                f"{result[f'minimal_case_{name}_per_s']} /s",
                "",
            )
        table.add_row(
            "whole path ÷ minimal case (unsandboxed)",
            f"{result['ratio_to_minimal_unsandboxed']:.3f}",
            ">= 0.9",
        )
        table.add_row(
            "whole path ÷ minimal case (sandboxed)",
            f"{result['ratio_to_minimal_sandboxed']:.3f}",
            "",
        )
    if "latency" in result:
        lat = result["latency"]
        rate = lat["rate_per_s"]
        table.add_row(f"HTTP 202 -> dispatch p50 @ {rate}/s", f"{lat['p50_s']} s", "")
        table.add_row(f"HTTP 202 -> dispatch p99 @ {rate}/s", f"{lat['p99_s']} s", "< 1 s")
    if "drain" in result:
        d = result["drain"]
        table.add_row(f"drain of a {d['backlog']}-event backlog", f"{d['seconds']} s", "")
    if "soak" in result:
        s = result["soak"]
        for name, pct in s["growth_percent"].items():
            table.add_row(
                f"RSS growth over {s['minutes']} min: {name}",
                f"{pct} % ({s['rss_mb_final'][name]} MB)",
                "< 10 %",
            )
    load = result["load_average_1min"]
    table.add_row("load average (1 min) at start, end", f"{load['start']}, {load['end']}", "")
    console.print(table)


async def run(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    settings = stack.settings
    engine = make_engine(settings.resolved_database_url, writer=False)
    probe = Probe(session_factory(engine))
    with session_factory(make_engine(settings.resolved_database_url))() as session:
        _, token = add_user(session, "bench-operator", Role.OPERATOR, None)
    await mix(stack, probe, 100)  # warm-up: groups joined, workers hot
    result: dict[str, Any] = {"at": now(), "broker": args.broker, "database": "sqlite"}
    # The machine is shared: every figure goes with the load it was measured under.
    result["load_average_1min"] = {"start": round(os.getloadavg()[0], 2)}
    concurrency = settings.intake_max_in_flight
    if "mix" in args.parts:
        result["mix"] = await mix(stack, probe, args.n)
        result["complaints_whole_path_per_s"] = round((await whole_path(settings, args.n))[1], 1)
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
        # The ceiling of a case-per-event design on this server: the smallest case-shaped
        # workflow, run by a worker of its own, with and without the sandbox.
        for name, sandboxed in (("sandboxed", True), ("unsandboxed", False)):
            rate = await minimal_case_rate(settings, args.n, concurrency, sandboxed)
            result[f"minimal_case_{name}_per_s"] = round(rate, 1)
            result[f"ratio_to_minimal_{name}"] = round(
                result["complaints_whole_path_per_s"] / rate, 3
            )
    # Half of the capacity measured here, or of the figure given when the mix is skipped.
    half = result["mix"]["events_per_s"] / 2 if "mix" in result else args.capacity / 2
    if "latency" in args.parts:
        result["latency"] = await latency(stack, token, half, args.latency_seconds)
    if "drain" in args.parts:
        result["drain"] = await drain_backlog(stack, probe, args.backlog)
    if args.soak_minutes > 0:
        result["soak"] = await soak(stack, probe, half, args.soak_minutes)
    engine.dispose()
    result["load_average_1min"]["end"] = round(os.getloadavg()[0], 2)
    return result


def start_stack(args: argparse.Namespace) -> Stack:
    """The stack every part runs against: embedded servers on free ports, a temporary data
    dir. (Other topologies are chosen here.)"""
    return Stack(bench_settings(args.broker), temporal_ui=False).start()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="events in the mix")
    parser.add_argument("--latency-seconds", type=float, default=60)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--soak-minutes", type=float, default=0)
    parser.add_argument(
        "--parts",
        type=lambda v: set(v.split(",")),
        default={"mix", "latency", "drain"},
        help="comma-separated, of mix,latency,drain (the soak runs when --soak-minutes > 0)",
    )
    parser.add_argument(
        "--capacity", type=float, default=20.0, help="events/s assumed when mix is not run"
    )
    parser.add_argument("--broker", default="tansu", choices=["tansu", "kafka"])
    parser.add_argument("--out", type=Path, default=Path("bench/results/harness.json"))
    args = parser.parse_args()
    stack = start_stack(args)
    try:
        result = asyncio.run(run(args, stack))
    finally:
        stack.stop()
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
