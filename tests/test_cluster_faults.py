"""Faults of the production shape (TUOYU_TEST_TOPOLOGY=cluster, tests/topology.py), each under
the fault matrix's mixed load with bad events (tests/faults.py), one after the other:

1. a Kafka node SIGKILLed: producers (`acks=all`, `min.insync.replicas=2`) go on being
   acknowledged by the other two while it is down; then it is started again;
2. one of the two stream workers SIGKILLed and left down: the group hands its partitions to
   the other, which turns everything acknowledged meanwhile into cases; then it comes back;
3. one of the two Temporal workers SIGKILLed and left down: the other runs every case;
4. the Temporal server SIGKILLed and started again (the single `server` process runs the
   frontend with history, matching and worker: restarting it is the frontend's restart).

Afterwards every acknowledged event is exactly one case, finding, institution or dead
letter, every dispatch recorded once and sent at least once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kafka import KafkaAdminClient
from sqlmodel import col, select
from temporalio.service import RPCError

from infra.temporal import connect
from models import topics
from models.parking import ParkedEvent
from tests.faults import Mix, render
from tests.topology import CLUSTER, broker_names
from workers.stack import Stack

pytestmark = pytest.mark.skipif(not CLUSTER, reason="the cluster topology (tests/topology.py)")
DOWN = 15.0  # seconds of load while a process is down


@pytest.fixture
async def mix(stack: Stack) -> AsyncIterator[Mix]:
    made = Mix(stack)
    try:
        yield made
    finally:
        await made.close()


async def load_for(mix: Mix, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await mix.burst(complaints=2)


async def settled(mix: Mix, within: float = 300) -> None:
    counts = await mix.settle(within=within)
    print(render(counts))
    if not mix.complete(counts):
        print(await explain(mix, counts))
    assert mix.complete(counts), render(counts)


async def explain(mix: Mix, counts: dict[str, Any]) -> str:
    """Where each missing inspection stopped: on its topic, parked, its workflow's state."""
    missing = counts["rows"]["inspections (acked) -> finding"]["missing_examples"]
    if not missing:
        return ""
    on_topic = {
        json.loads(r.value).get("event_id"): (r.partition, r.offset)
        for r in mix._read(topics.INSPECTIONS)
        if r.value
    }
    admin = KafkaAdminClient(bootstrap_servers=mix.settings.kafka_bootstrap)
    try:
        group = mix.settings.stream_app_id
        committed = {
            tp.partition: o.offset
            for tp, o in admin.list_group_offsets(group)[group].items()
            if tp.topic == topics.INSPECTIONS
        }
    finally:
        admin.close()
    with mix.sessions() as session:
        parked = session.exec(
            select(ParkedEvent.event_id, ParkedEvent.reason).where(
                col(ParkedEvent.event_id).in_(missing)
            )
        ).all()
    client = await connect(mix.settings)
    letters = [
        letter.get("reason")
        for letter in (json.loads(r.value) for r in mix._read(topics.DEAD_LETTER))
        if any(m.encode() in base64.b64decode(letter.get("original_base64", "")) for m in missing)
    ]
    lines = [
        f"parked: {parked}",
        f"dead letters: {letters}",
        f"committed offsets of {topics.INSPECTIONS}: {committed}",
    ]
    for event_id in missing:
        try:
            described = await client.get_workflow_handle(f"inspection-{event_id}").describe()
            state = f"{described.status}, {described.raw_description.workflow_execution_info}"
        except RPCError as err:
            state = f"no workflow ({err.message})"
        lines.append(f"{event_id}: on the topic at {on_topic.get(event_id)}; {state}")
    return "\n".join(lines)


async def restart(stack: Stack, name: str) -> None:
    stack.replace(name, await asyncio.to_thread(stack.starters[name]))


async def down(stack: Stack, name: str) -> None:
    """SIGKILL a child, as a crash would; nothing restarts it until the test does."""
    await asyncio.to_thread(stack.children()[name].kill)


async def test_cluster_survives_a_broker_a_stream_worker_a_temporal_worker_and_the_server(
    stack: Stack, mix: Mix
) -> None:
    assert len(broker_names(stack)) == 3
    await mix.register_devices(8)
    await mix.burst()

    # 1. A broker node (the second: each node leads a third of the partitions).
    before = len(mix.acked.complaints)
    await down(stack, "kafka-2")
    await load_for(mix, DOWN)
    during = len(mix.acked.complaints) - before
    refused = dict(mix.acked.refused)
    await restart(stack, "kafka-2")
    await mix.burst()
    print(f"broker down: {during} complaints acknowledged, refused {refused}")
    assert during > 0  # two of three in sync: writes go on
    await settled(mix)

    # 2. A stream worker: its partitions go to the other.
    stream = stack.workers.pop("stream-worker-2")
    await asyncio.to_thread(stream.kill)
    await load_for(mix, DOWN)
    await settled(mix)  # all of it read by the one worker left
    stack.start_worker(
        "stream-worker-2",
        "workers.stream_worker",
        {"TUOYU_STREAM_METRICS_PORT": str(stack.settings.stream_metrics_port + 1)},
    )
    await mix.burst()

    # 3. A Temporal worker: the other takes the task queue alone.
    worker = stack.workers.pop("temporal-worker-2")
    await asyncio.to_thread(worker.kill)
    await load_for(mix, DOWN)
    await settled(mix)
    stack.start_worker(
        "temporal-worker-2",
        "workers.temporal_worker",
        {"TUOYU_TEMPORAL_METRICS_PORT": str(stack.settings.temporal_metrics_port + 1)},
    )

    # 4. The Temporal server (the frontend with it), under load.
    await down(stack, "temporal")
    await load_for(mix, DOWN / 3)
    await restart(stack, "temporal")
    await load_for(mix, DOWN / 3)

    await settled(mix)
    assert not [p.name for p in stack.dead()]
    acked = mix.acked
    assert acked.complaints and acked.alarms and acked.inspections and acked.bad
