"""Temporal down: complaints wait on Kafka, unacknowledged, and become cases once it is back."""

from __future__ import annotations

import asyncio
import json

import httpx

from infra import servers
from infra.kafka import KafkaPublisher
from models import topics
from tests.factories import case_id_of, complaint_payload
from tests.polling import wait_for_case
from workers.stack import Stack


async def test_complaints_survive_a_temporal_outage(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    temporal = next(p for p in stack.servers if p.name == "temporal")
    temporal.stop()
    try:
        payloads = [complaint_payload(town="town-panghai") for _ in range(5)]
        for payload in payloads:
            producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
        await asyncio.sleep(3)  # let the agent try, fail and back off
        first = payloads[0]
        case_id = case_id_of(first)
        assert (await http.get(f"/api/v1/cases/{case_id}")).status_code == 404
    finally:
        restarted = await asyncio.to_thread(servers.start_temporal, stack.settings, False)
        stack.servers[stack.servers.index(temporal)] = restarted

    for payload in payloads:
        case_id = case_id_of(payload)
        case = await wait_for_case(http, case_id, assigned_units=["town-panghai"])
        assert case["handler"] == "town-panghai"
