"""The transactional outbox: a step's rows and its messages commit together or not at all, and
the relay publishes them to the broker in id order, at least once across a crash between the
publish and the mark."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from infra import notify
from infra.db import SessionFactory, make_engine, session_factory
from infra.kafka import KafkaPublisher, ensure_topics
from infra.migrate import prepare_database
from infra.outbox import Publisher, Relay, enqueue
from models.audit import AuditRecord
from models.cases import case_id_for
from models.notifications import Notification, NotificationKind, NotificationRecord
from models.outbox import OutboxMessage
from tests.case_env import TASK_QUEUE, CaseEnv
from tests.conftest import own_database
from tests.factories import complaint
from tests.kafka_reader import TopicReader
from tests.polling import eventually
from workers.stack import Stack
from workflows.cases.starter import submit_complaint


@pytest.fixture(scope="module")
def outbox_db(database_url: str, test_data_dir: Path) -> Iterator[tuple[SessionFactory, Engine]]:
    """A database of its own: no other relay of the session drains it."""
    url = own_database(database_url, test_data_dir, "tuoyu_outbox")
    prepare_database(url)
    engine = make_engine(url)
    yield session_factory(engine), engine
    engine.dispose()


class CrashAfterPublish:
    """Publishes for real, then dies before the relay can mark the rows sent: what a kill of
    the worker between the broker's acknowledgement and the commit of `sent_at` leaves."""

    def __init__(self, publisher: KafkaPublisher) -> None:
        self._publisher = publisher

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        self._publisher.publish_all(topic, messages)
        raise ConnectionResetError("worker killed after the publish")


def _unsent(sessions: SessionFactory) -> int:
    with sessions() as session:
        return session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None))
        ).one()


async def test_the_relay_publishes_in_order_at_least_once_across_a_crash(
    stack: Stack, outbox_db: tuple[SessionFactory, Engine]
) -> None:
    sessions, engine = outbox_db
    bootstrap = stack.settings.kafka_bootstrap
    topic = f"tuoyu.test-outbox-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, 1, [topic])  # one partition: one order to check
    ids = [f"m{i:03d}" for i in range(30)]
    with sessions() as session:
        for i in ids:
            enqueue(session, topic, "k", i.encode())
        session.commit()
    publisher = KafkaPublisher(bootstrap)
    reader = TopicReader(bootstrap, topic)
    try:
        crashing = Relay(sessions, engine, CrashAfterPublish(publisher), batch=20)
        with pytest.raises(ConnectionResetError):
            crashing.drain()
        crashing.close()  # the dead worker's lock goes with it
        assert _unsent(sessions) == 30  # published, but nothing marked

        restarted = Relay(sessions, engine, publisher, batch=20)
        assert restarted.drain() == 30
        assert _unsent(sessions) == 0 and restarted.drain() == 0
        restarted.close()

        records = await reader.wait_for(lambda r: True, count=20 + 30)
        values = [r.value.decode() for r in records]
        # The first batch went out twice (at least once); every message is there, and the
        # stream is in id order up to the re-send, and again from it.
        assert values == ids[:20] + ids
    finally:
        reader.close()
        publisher.close()


def test_only_one_relay_publishes_at_a_time(outbox_db: tuple[SessionFactory, Engine]) -> None:
    sessions, engine = outbox_db
    seen: list[str] = []

    class Recorder:
        def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
            seen.extend(v.decode() for _, v in messages)

    first = Relay(sessions, engine, Recorder())
    second = Relay(sessions, engine, Recorder())
    with sessions() as session:
        enqueue(session, "tuoyu.test-outbox", "k", b"one")
        session.commit()
    assert first.drain() == 1
    with sessions() as session:
        enqueue(session, "tuoyu.test-outbox", "k", b"two")
        session.commit()
    assert second.drain() == 0  # the first holds the lock
    first.close()
    assert second.drain() == 1
    second.close()
    assert seen == ["one", "two"]


def test_sent_rows_are_pruned_after_the_retention(
    outbox_db: tuple[SessionFactory, Engine],
) -> None:
    sessions, engine = outbox_db
    relay = Relay(sessions, engine, notify_nothing(), retention=timedelta(days=7))
    with sessions() as session:
        now = datetime.now(UTC)
        for value, age in ((b"old", 8), (b"fresh", 1)):  # days since it was sent
            sent = now - timedelta(days=age)
            session.add(
                OutboxMessage(topic="t", key="k", value=value, created_at=sent, sent_at=sent)
            )
        session.commit()
    assert relay.prune() >= 1
    with sessions() as session:
        left = session.exec(
            select(OutboxMessage.value).where(col(OutboxMessage.topic) == "t")
        ).all()
    assert left == [b"fresh"]
    relay.close()


def notify_nothing() -> Publisher:
    class Nothing:
        def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
            pass

    return Nothing()


def test_a_rollback_leaves_neither_the_record_nor_the_message(
    outbox_db: tuple[SessionFactory, Engine],
) -> None:
    sessions, _ = outbox_db
    n = Notification(
        event_id=f"rollback-{uuid.uuid4().hex}",
        occurred_at=datetime.now(UTC),
        kind=NotificationKind.DISPATCH,
        recipient="town-lushan",
        case_id=None,
        priority="normal",
        title="t",
        text="x",
    )
    with sessions() as session:
        notify.record(session, [n], None)
        session.flush()  # written in the transaction
        session.rollback()  # and the step fails before its commit
    with sessions() as session:
        assert session.get(NotificationRecord, n.event_id) is None
        assert not _messages_about(session, n.event_id)


def _messages_about(session: Session, text: str) -> list[OutboxMessage]:
    return [m for m in session.exec(select(OutboxMessage)).all() if text.encode() in m.value]


async def test_a_step_failing_before_its_commit_is_recorded_and_published_once(
    case_env: CaseEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case's first step fails after writing its rows and its notification, before the
    commit, until the test lets it pass: meanwhile there is neither; then exactly one of each."""
    real = notify.record
    release = threading.Event()
    failures: list[str] = []

    def record_then_fail(
        session: Session, notifications: list[Notification], inst: str | None
    ) -> None:
        real(session, notifications, inst)
        mine = [n for n in notifications if n.case_id == case_id]
        if mine and not release.is_set():
            session.flush()
            failures.append(mine[0].event_id)
            raise OperationalError("COMMIT", None, ConnectionError("database went away"))

    received = complaint(occurred_at=(await case_env.now()).isoformat(), town="town-lushan")
    case_id = case_id_for(received.event_id, received.occurred_at)
    monkeypatch.setattr(notify, "record", record_then_fail)
    await submit_complaint(case_env.client, received, TASK_QUEUE)
    assert await eventually(lambda: len(failures) >= 2)  # failed, retried, failed again
    with case_env.sessions() as session:
        assert session.get(NotificationRecord, failures[0]) is None
        assert not _messages_about(session, failures[0])
        assert not session.exec(
            select(AuditRecord)
            .where(col(AuditRecord.case_id) == case_id)
            .where(col(AuditRecord.action) == "case.dispatched")
        ).all()
    assert case_env.publisher.to(case_id) == []

    release.set()
    assert await eventually(lambda: bool(case_env.publisher.to(case_id, NotificationKind.DISPATCH)))
    [dispatch] = case_env.publisher.to(case_id, NotificationKind.DISPATCH)
    with case_env.sessions() as session:
        assert session.get(NotificationRecord, dispatch.event_id) is not None
        assert len(_messages_about(session, dispatch.event_id)) == 1
