"""Sending notifications: each one is recorded with its audit record and put in the outbox
(infra/outbox.py) for `tuoyu.notifications`, exactly once by event id, in the caller's
transaction; the relay publishes it after the commit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from infra import audit, outbox
from models import topics
from models.audit import AuditEntry
from models.notifications import Notification, NotificationRecord

ACTOR = "system:notifier"


def record(session: Session, notifications: list[Notification], institution: str | None) -> None:
    """Record each notification new to the database and put it in the outbox."""
    for n in notifications:
        if session.get(NotificationRecord, n.event_id) is not None:
            continue
        outbox.enqueue(
            session, topics.NOTIFICATIONS, n.recipient, n.model_dump_json().encode("utf-8")
        )
        session.add(
            NotificationRecord(
                event_id=n.event_id,
                kind=n.kind,
                recipient=n.recipient,
                case_id=n.case_id,
                title=n.title,
                text=n.text,
                published_at=datetime.now(UTC),
            )
        )
        audit.append(
            session,
            AuditEntry(
                actor=ACTOR,
                action="notification.sent",
                channel="kafka",
                case_id=n.case_id,
                institution=institution,
                occurred_at=n.occurred_at,
                idempotency_key=n.event_id,
                details={"kind": n.kind, "recipient": n.recipient, "topic": topics.NOTIFICATIONS},
            ),
        )
