"""Idempotency that tells, at the HTTP edge.

`produce_once` records the event id with the fingerprint of the submission and produces the
event in one database transaction: the primary key makes two concurrent submissions of one
id race-safe (the second waits for the first's commit, fails on the key and re-reads it), and
a failed produce rolls the key back so the client's retry starts afresh.

`first_rejection` lets a refused body be dead-lettered once however often a client retries
it: the digest of channel and body is inserted; a retry finds it and is not sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.intake import IntakeKey, RejectedBody

Sessions = Callable[[], Session]


class KeyReused(Exception):
    """The event id was accepted before with other content."""

    def __init__(self, event_id: str) -> None:
        super().__init__(event_id)
        self.event_id = event_id


def produce_once(
    sessions: Sessions,
    *,
    event_id: str,
    fingerprint: str,
    channel: str,
    case_id: str | None,
    produce: Callable[[], None],
) -> IntakeKey:
    """The key as first recorded: new (and produced), or the earlier one of a duplicate.
    Raises `KeyReused` when the id came before with another fingerprint. Blocking: run it in
    a thread."""
    key = IntakeKey(
        event_id=event_id,
        fingerprint=fingerprint,
        case_id=case_id,
        channel=channel,
        created_at=datetime.now(UTC),
    )
    answer = key.model_copy()
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            # No wait for the commit's flush to disk: a key lost in a crash only lets the
            # client's retry produce the event again, and the case workflow (one per event
            # id) takes the same content as the duplicate it is.
            session.execute(text("SET LOCAL synchronous_commit = off"))
        session.add(key)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            earlier = session.get(IntakeKey, event_id)
            if earlier is None:  # removed in between: nothing to compare with
                raise
            if earlier.fingerprint != fingerprint:
                raise KeyReused(event_id) from None
            session.expunge(earlier)
            return earlier
        produce()  # raises (and the key rolls back) when the broker does not take it
        session.commit()
        return answer


def rejection_digest(channel: str, body: bytes) -> str:
    return hashlib.sha256(channel.encode() + b"\0" + body).hexdigest()


def first_rejection(
    sessions: Sessions, channel: str, body: bytes, reason: str, send: Callable[[], None]
) -> bool:
    """Send the dead letter of a refused body unless the same body on the same channel was
    dead-lettered before; True when it was sent now. A failed send leaves no mark, so the
    next retry tries again."""
    digest = rejection_digest(channel, body)
    with sessions() as session:
        session.add(
            RejectedBody(
                digest=digest,
                channel=channel[:200],
                reason="".join(c if c.isprintable() else "?" for c in reason[:2000]),
                created_at=datetime.now(UTC),
            )
        )
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return False
        send()
        session.commit()
        return True
