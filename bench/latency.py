"""HTTP 202 -> dispatch on `tuoyu.notifications`, at a given rate (bench/harness.py)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition

from bench.load import Probe, complaint
from models import topics
from workers.stack import Stack


async def latency(
    stack: Stack, probe: Probe, token: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Complaints POSTed at `rate`/s; latency = dispatch timestamp on the topic - HTTP 202,
    split at the dispatch's outbox row: 202 -> written (intake, workflow, activity: the row's
    `created_at`) and written -> on the topic (the outbox relay: the record's timestamp)."""
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
    written = probe.outbox_written(set(accepted))
    to_outbox = sorted(written[c] - accepted[c] for c in written)
    relayed = sorted(dispatched[c] - written[c] for c in written if c in dispatched)
    return {
        "rate_per_s": round(rate, 1),
        "sent": len(accepted),
        "dispatched": len(dispatched),
        "p50_s": round(statistics.median(values), 3),
        "p99_s": round(p99(values), 3),
        "max_s": round(values[-1], 3),
        "to_outbox_p50_s": round(statistics.median(to_outbox), 3),
        "to_outbox_p99_s": round(p99(to_outbox), 3),
        "relay_p50_s": round(statistics.median(relayed), 3),
        "relay_p99_s": round(p99(relayed), 3),
    }


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]
