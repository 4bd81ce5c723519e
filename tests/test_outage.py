"""Temporal down: complaints wait on Kafka, unacknowledged, and become cases once it is back.

"Unacknowledged" is checked where it lives: the stream worker has read every complaint (its
`tuoyu_events_in` counter) and the consumer group's committed offset of each partition stays
at or below the first of them, so a crash now would read them all again."""

from __future__ import annotations

import asyncio
import json

import httpx
from kafka import KafkaAdminClient

from infra import servers
from infra.kafka import KafkaPublisher
from models import topics
from tests.factories import case_id_of, complaint_payload
from tests.polling import eventually, eventually_async, wait_for_case
from tests.test_metrics import sample
from workers.stack import Stack

# faust's default `broker_commit_interval` (the stream worker does not change it): a commit
# that acknowledged anything would have happened within two of them.
COMMIT_INTERVAL = 2.8


def committed(bootstrap: str, group: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
        return {
            tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topics.COMPLAINTS
        }
    finally:
        admin.close()


async def test_complaints_survive_a_temporal_outage(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    settings = stack.settings
    metrics = f"http://{settings.http_host}:{settings.stream_metrics_port}/metrics"
    read = {"topic": topics.COMPLAINTS}
    async with httpx.AsyncClient(timeout=10) as scraper:

        async def events_in() -> float:
            try:
                text = (await scraper.get(metrics)).text
            except httpx.HTTPError:  # a busy machine: scraped again on the next poll
                return -1.0
            return sample(text, "tuoyu_events_in_total", **read)

        temporal = next(p for p in stack.servers if p.name == "temporal")
        temporal.stop()
        try:
            before = -1.0
            while before < 0:
                before = await events_in()
            payloads = [complaint_payload(town="town-panghai") for _ in range(5)]
            placed = producer.placed(
                topics.COMPLAINTS,
                [(p["event_id"], json.dumps(p).encode()) for p in payloads],
            )
            first_of: dict[int, int] = {}
            for partition, offset in placed:
                first_of[partition] = min(offset, first_of.get(partition, offset))

            async def all_read() -> bool:
                return await events_in() >= before + len(payloads)

            assert await eventually_async(all_read, 60)  # read, and retrying
            await asyncio.sleep(2 * COMMIT_INTERVAL)  # a negative: nothing to poll for
            group = await asyncio.to_thread(
                committed, settings.kafka_bootstrap, settings.stream_app_id
            )
            for partition, first in first_of.items():
                assert group.get(partition, 0) <= first, (partition, group, first_of)
            # No case yet: unknown (404), or Temporal asked and unreachable (503).
            unopened = await http.get(f"/api/v1/cases/{case_id_of(payloads[0])}")
            assert unopened.status_code in (404, 503), unopened.text
        finally:
            restarted = await asyncio.to_thread(servers.start_temporal, stack.settings, False)
            stack.servers[stack.servers.index(temporal)] = restarted

    for payload in payloads:
        case = await wait_for_case(http, case_id_of(payload), assigned_units=["town-panghai"])
        assert case["handler"] == "town-panghai"


async def test_a_stream_worker_started_during_a_temporal_outage_keeps_running(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    """Its camera check round asked for a Temporal client first and raised when it could
    not connect; faust stops the whole app when a timer raises, so the worker died at its
    first round and the events waiting for it stayed waiting."""
    temporal = next(p for p in stack.servers if p.name == "temporal")
    temporal.stop()
    try:
        stack.workers["stream-worker"].stop()
        stream = stack.start_worker("stream-worker", "workers.stream_worker")
        payload = complaint_payload(town="town-panghai")
        producer.placed(topics.COMPLAINTS, [(payload["event_id"], json.dumps(payload).encode())])
        log = stack.logs / "stream-worker.log"

        def rounds_failed() -> int:
            return log.read_text(errors="replace").count("devices are looked at next round")

        # Dead, or two rounds that could not reach Temporal and went on.
        assert await eventually(lambda: not stream.alive() or rounds_failed() >= 2, 120)
        assert stream.alive(), stream.tail()
    finally:
        restarted = await asyncio.to_thread(servers.start_temporal, stack.settings, False)
        stack.servers[stack.servers.index(temporal)] = restarted
    case = await wait_for_case(http, case_id_of(payload), assigned_units=["town-panghai"])
    assert case["handler"] == "town-panghai"
    assert stream.alive()
