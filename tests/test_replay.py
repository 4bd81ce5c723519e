"""Replay: a second stream worker (a new consumer group) re-reads every inbound topic from
offset 0. Every hand-off is idempotent by business key, so no case is opened again and no
dispatch is sent again."""

from __future__ import annotations

import asyncio
import json

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func
from sqlmodel import Session, select

from infra.kafka import ensure_topics
from infra.process import free_port
from models import topics
from models.cases import Case
from models.notifications import NotificationRecord
from tests.kafka_reader import TopicReader
from tests.polling import eventually, eventually_async
from workers.stack import Stack

REPLAY_GROUP = "tuoyu-streams-replay"


def counts(db: Session) -> tuple[int, int]:
    db.rollback()
    cases = db.exec(select(func.count()).select_from(Case)).one()
    dispatches = db.exec(
        select(func.count())
        .select_from(NotificationRecord)
        .where(NotificationRecord.kind == "dispatch")
    ).one()
    return cases, dispatches


def caught_up(bootstrap: str, group: str) -> bool:
    """The group has committed every inbound partition up to its end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics.INBOUND
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        committed = admin.list_group_offsets({group: None}).get(group, {})
        return all(
            ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp])
            for tp in partitions
        )
    finally:
        consumer.close()
        admin.close()


def dispatch_messages(bootstrap: str) -> list[str]:
    reader = TopicReader(bootstrap, topics.NOTIFICATIONS)
    try:
        for _ in range(20):
            before = len(reader.records)
            reader.poll()
            if len(reader.records) == before and before:
                break
        return [
            json.loads(r.value)["event_id"]
            for r in reader.records
            if json.loads(r.value)["kind"] == "dispatch"
        ]
    finally:
        reader.close()


async def check_rounds(metrics: str) -> float:
    """The replay worker's finished rounds of the camera watch (-1 while it serves none)."""
    try:
        async with httpx.AsyncClient(timeout=5) as scraper:
            text = (await scraper.get(metrics)).text
    except httpx.HTTPError:
        return -1.0
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "tuoyu_camera_check_rounds_total"
    )


async def _more(metrics: str, at_least: float) -> bool:
    return await check_rounds(metrics) >= at_least


async def test_replaying_every_topic_opens_no_case_and_sends_no_dispatch_again(
    stack: Stack, db: Session
) -> None:
    settings = stack.settings
    bootstrap = settings.kafka_bootstrap
    # Whatever earlier tests submitted has been handed over.
    assert await eventually(lambda: caught_up(bootstrap, settings.stream_app_id), 180)
    cases_before, dispatches_before = counts(db)
    assert cases_before > 0
    sent_before = await asyncio.to_thread(dispatch_messages, bootstrap)

    original = stack.workers["stream-worker"]
    await asyncio.to_thread(original.stop)
    ensure_topics(bootstrap, settings.topic_partitions, topics.changelog_topics(REPLAY_GROUP))
    metrics_port = free_port()
    replay = stack.start_worker(
        "stream-replay",
        "workers.stream_worker",
        {"TUOYU_STREAM_APP_ID": REPLAY_GROUP, "TUOYU_STREAM_METRICS_PORT": str(metrics_port)},
    )
    metrics = f"http://{settings.http_host}:{metrics_port}/metrics"
    try:
        assert await eventually(lambda: caught_up(bootstrap, REPLAY_GROUP), 600)
        # The storm and keepalive watch has gone over the rebuilt tables twice since: what
        # it would raise again (a storm, a silent device) has been raised by now.
        assert await eventually_async(lambda: _more(metrics, 0), 60)
        rounds = await check_rounds(metrics)
        assert await eventually_async(lambda: _more(metrics, rounds + 2), 120)
        assert counts(db) == (cases_before, dispatches_before)
        sent_after = await asyncio.to_thread(dispatch_messages, bootstrap)
        assert sorted(sent_after) == sorted(sent_before)  # not one dispatch more
    finally:
        await asyncio.to_thread(replay.stop)
        del stack.workers["stream-replay"]
        stack.start_worker("stream-worker", "workers.stream_worker")
