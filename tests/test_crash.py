"""Crashes during a 2,000-event run, on Apache Kafka and PostgreSQL: kill -9 the stream worker,
then the Temporal worker, then restart the broker and the Temporal server. Afterwards exactly
the expected cases exist (none lost, none duplicated), every dispatch was sent at least once
and recorded once. On the cluster topology (tests/topology.py) the broker restarted is one of
the three nodes, and the stream and Temporal workers killed are the first of two.

Runs on the Apache Kafka leg only: Tansu keeps its log in memory, so a Tansu restart loses
the topics by design."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from infra.kafka import KafkaPublisher
from models import topics
from models.cases import Case
from models.notifications import NotificationRecord
from tests.factories import case_id_of, complaint_payload
from tests.kafka_reader import TopicReader
from tests.polling import eventually
from tests.topology import broker_names
from workers.stack import Stack

pytestmark = pytest.mark.skipif(
    os.environ.get("TUOYU_TEST_BROKER", "tansu") != "kafka",
    reason="needs a broker that keeps its log across a restart (Apache Kafka)",
)
EVENTS = 2000
TOWNS = ["town-longchang", "town-wanshui", "town-dafengdong", "street-baiwu"]


def cases_in(db: Session, run: str) -> int:
    db.rollback()
    return db.exec(
        select(func.count()).select_from(Case).where(col(Case.source_event_id).startswith(run))
    ).one()


async def until(db: Session, run: str, at_least: int) -> None:
    assert await eventually(lambda: cases_in(db, run) >= at_least, 600), cases_in(db, run)


async def test_no_case_lost_or_duplicated_through_crashes_and_restarts(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    run = f"crash-{uuid.uuid4().hex[:8]}-"
    payloads = [
        complaint_payload(event_id=f"{run}{i}", town=TOWNS[i % len(TOWNS)]) for i in range(EVENTS)
    ]
    for start in range(0, EVENTS, 200):
        batch = payloads[start : start + 200]
        await asyncio.to_thread(
            producer.publish_all,
            topics.COMPLAINTS,
            [(p["event_id"], json.dumps(p, ensure_ascii=False).encode()) for p in batch],
        )

    await until(db, run, EVENTS // 5)
    stream = stack.workers["stream-worker"]
    await asyncio.to_thread(stream.kill)
    stack.start_worker("stream-worker", "workers.stream_worker")

    await until(db, run, 2 * EVENTS // 5)
    worker = stack.workers["temporal-worker"]
    await asyncio.to_thread(worker.kill)
    stack.start_worker(
        "temporal-worker",
        "workers.temporal_worker",
        {"TUOYU_TEMPORAL_METRICS_PORT": str(stack.settings.temporal_metrics_port)},
    )

    await until(db, run, 3 * EVENTS // 5)
    # One broker, or one node of the cluster (the last: not the one first in the bootstrap).
    name = broker_names(stack)[-1]
    broker = stack.children()[name]
    await asyncio.to_thread(broker.stop)
    stack.replace(name, await asyncio.to_thread(stack.starters[name]))

    await until(db, run, 4 * EVENTS // 5)
    # The dev server, or the cluster's Temporal server (all four services in one process).
    temporal = stack.children()["temporal"]
    await asyncio.to_thread(temporal.stop)
    stack.replace("temporal", await asyncio.to_thread(stack.starters["temporal"]))

    await until(db, run, EVENTS)
    dead = [p.name for p in stack.dead()]
    assert not dead, dead

    expected = {case_id_of(p) for p in payloads}
    db.rollback()
    found = db.exec(select(Case.id).where(col(Case.source_event_id).startswith(run))).all()
    assert len(found) == EVENTS and set(found) == expected  # none lost, none duplicated

    def all_dispatched() -> bool:
        db.rollback()
        recorded = db.exec(
            select(NotificationRecord.case_id)
            .where(col(NotificationRecord.case_id).in_(expected))
            .where(NotificationRecord.kind == "dispatch")
        ).all()
        return len(recorded) == EVENTS and set(recorded) == expected

    assert await eventually(all_dispatched, 300)  # recorded once each (one unit per case)

    reader = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        sent: Counter[str] = Counter()
        for _ in range(600):
            await asyncio.to_thread(reader.poll)
            sent = Counter(
                n["case_id"]
                for n in (json.loads(r.value) for r in reader.records)
                if n["kind"] == "dispatch" and n["case_id"] in expected
            )
            if set(sent) == expected:
                break
    finally:
        reader.close()
    assert set(sent) == expected  # every dispatch sent at least once
