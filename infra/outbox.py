"""The transactional outbox: a step writes the messages it publishes in its own transaction
(`enqueue`); the relay publishes them to Kafka in id order, at least once, and marks them sent.

Why: publishing first and recording after (the old way) is a dual write; a crash between the
two re-published on retry and needed an idempotency check in a second transaction. Now a step
is one transaction, so its rows and its messages exist together or not at all.

Order. Rows are taken by `sent_at IS NULL ORDER BY id`, never by a high-water mark, so a row
that commits after a higher id (PostgreSQL hands out ids at insert, not at commit) is never
skipped: it goes out in the next batch. The order that matters holds without a grace period:
the steps of one workflow run one after the other, each committed before the next starts, so
their rows' ids rise in the order of the steps; rows of concurrent transactions belong to
different workflows and have no order between them to keep.

One relay at a time: with several worker processes (TUOYU_TEMPORAL_WORKERS) each runs a relay,
but only the one holding the lock publishes (PostgreSQL: a session advisory lock on a
connection of its own; SQLite: an flock beside the database file). Both locks go with the
process that held them, so a killed worker hands over to the next at once. Without it two
relays would each publish every row, and one's re-send of an old row could land after the
other's newer ones.

A crash between publish and mark re-sends the batch: consumers dedupe by the message's own id
(a notification's event id), as they did when activities re-published on retry.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Connection, Engine, delete, event, text, update
from sqlmodel import Session, col, select

from infra.db import SessionFactory
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)
ADVISORY_LOCK = 0x7475_6F79_7501  # "tuoyu" + 1: the relay's lock id on PostgreSQL

_wakers: set[threading.Event] = set()
_wakers_lock = threading.Lock()


class Publisher(Protocol):
    """Sends messages and returns once the broker has acknowledged every one."""

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


def enqueue(session: Session, topic: str, key: str, value: bytes) -> None:
    """Add a message to the caller's transaction; published after it commits."""
    session.add(OutboxMessage(topic=topic, key=key, value=value, created_at=datetime.now(UTC)))
    if not session.info.get("outbox_wake"):
        session.info["outbox_wake"] = True
        event.listen(session, "after_commit", _after_commit, once=True)


def _after_commit(session: Session) -> None:
    session.info.pop("outbox_wake", None)
    wake()


def wake() -> None:
    """Wake the relays of this process: a committed step need not wait for the next poll."""
    with _wakers_lock:
        for waker in _wakers:
            waker.set()


class Relay:
    """Publishes the outbox. `drain()` may be called from any thread; runs never overlap."""

    def __init__(
        self,
        sessions: SessionFactory,
        engine: Engine,
        publisher: Publisher,
        *,
        batch: int = 500,
        retention: timedelta = timedelta(days=7),
        readers: SessionFactory | None = None,
    ) -> None:
        """`readers`: sessions for the relay's query of unsent rows. On SQLite the writer
        engine has one connection and starts every transaction with BEGIN IMMEDIATE, so a
        relay reading through it queued behind the activities' transactions before it could
        publish (outbox -> topic p99 57 ms at 5/s in the harness, 35 ms so); a reader engine
        (`make_engine(url, writer=False)`) reads beside them in WAL mode. Marking rows sent
        still goes through `sessions`."""
        self._sessions = sessions
        self._readers = readers or sessions
        self._engine = engine
        self._publisher = publisher
        self._batch = batch
        self._retention = retention
        self._running = threading.Lock()
        self._held: Connection | IO[str] | None = None

    def drain(self) -> int:
        """Publish until the outbox is empty; returns how many messages went out."""
        total = 0
        with self._running:
            if not self._leader():
                return 0
            while sent := self._once():
                total += sent
        return total

    def _once(self) -> int:
        with self._readers() as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.sent_at).is_(None))
                .order_by(col(OutboxMessage.id))
                .limit(self._batch)
            ).all()
        # The session is closed here: nothing is held while the broker is waited for.
        if not rows:
            return 0
        # Consecutive runs of one topic go in one call: kafka-python keeps the order of the
        # sends within a partition, and the idempotent producer keeps it across its retries.
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i].topic != rows[start].topic:
                self._publisher.publish_all(
                    rows[start].topic, [(r.key, r.value) for r in rows[start:i]]
                )
                start = i
        with self._sessions() as session:
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([r.id for r in rows]))
                .values(sent_at=datetime.now(UTC))
            )
            session.commit()
        return len(rows)

    def prune(self) -> int:
        """Delete rows sent longer ago than the retention."""
        cutoff = datetime.now(UTC) - self._retention
        with self._sessions() as session:
            result: Any = session.execute(
                delete(OutboxMessage).where(col(OutboxMessage.sent_at) < cutoff)
            )
            session.commit()
            return int(result.rowcount or 0)

    def run(self, stop: threading.Event, interval: float, prune_every: float = 3600.0) -> None:
        """Drain, then sleep `interval` seconds or until a local commit wakes it; until `stop`."""
        waker = threading.Event()
        with _wakers_lock:
            _wakers.add(waker)
        pruned = 0.0
        try:
            while not stop.is_set():
                waker.clear()
                try:
                    self.drain()
                    if (now := datetime.now(UTC).timestamp()) - pruned > prune_every:
                        pruned = now
                        self.prune()
                except Exception:  # the broker or the database is away: the next poll retries
                    log.exception("outbox relay: publishing failed, retrying")
                    stop.wait(interval * 10)
                waker.wait(interval)
        finally:
            with _wakers_lock:
                _wakers.discard(waker)
            self.close()

    def close(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            with suppress(Exception):
                if isinstance(held, Connection):
                    # Back in the pool the session, and with it the lock, would live on.
                    held.invalidate()
                held.close()

    def _leader(self) -> bool:
        if isinstance(self._held, Connection):
            try:  # a restarted database dropped the session, and with it the lock
                self._held.execute(text("SELECT 1")).scalar()
                self._held.commit()
            except Exception:
                self.close()
        if self._held is not None:
            return True
        if self._engine.dialect.name == "postgresql":
            connection = self._engine.connect()
            took = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK})
            if took.scalar():
                connection.commit()
                self._held = connection
                return True
            connection.close()
            return False
        database = self._engine.url.database
        if not database or database == ":memory:":
            return True
        handle = Path(f"{database}.outbox-lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held = handle
        return True
