"""Sending notifications: publish to `tuoyu.notifications` first (at least once), then record
each one and its audit record (exactly once, by event id) in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlmodel import Session

from infra import audit
from models import topics
from models.audit import AuditEntry
from models.notifications import Notification, NotificationRecord

ACTOR = "system:notifier"


class Publisher(Protocol):
    """Sends messages and returns once the broker has acknowledged every one."""

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


def publish(publisher: Publisher, notifications: list[Notification]) -> None:
    if notifications:
        publisher.publish_all(
            topics.NOTIFICATIONS,
            [(n.recipient, n.model_dump_json().encode("utf-8")) for n in notifications],
        )


def record(session: Session, notifications: list[Notification], institution: str | None) -> None:
    for n in notifications:
        if session.get(NotificationRecord, n.event_id) is not None:
            continue
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
