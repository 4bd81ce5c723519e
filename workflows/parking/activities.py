"""The parking activity: one row in `parked_events`, one dead letter with the event and its
reason (under the original message's key), and for a case an audit record and a notification
to the leading group office. Safe to repeat: keyed by the park id throughout."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from infra import audit, notify, outbox
from infra.claim_check import ClaimCheckStore
from infra.db import SessionFactory
from models import topics
from models.audit import AuditEntry
from models.notifications import DeadLetter, DeadLetterSource, Notification, NotificationKind
from models.parking import ParkedEvent, ParkEvent

ACTOR = "system:parking"
LEADING_OFFICE = "leading-office"
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe(text: str, limit: int = 1000) -> str:
    """Text for columns that refuse NUL (PostgreSQL), with control characters escaped."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def dead_letter_of(event: ParkEvent) -> DeadLetter:
    return DeadLetter.of(
        event.payload.encode(),
        f"processing failed ({event.error_type}): {safe(event.reason, 500)}",
        DeadLetterSource(channel=f"temporal:{event.workflow_type}"[:64]),
    )


class ParkingActivities:
    def __init__(self, session_factory: SessionFactory, claims: ClaimCheckStore) -> None:
        self._sessions = session_factory
        self._claims = claims

    def all(self) -> list[Any]:
        return [self.park_event]

    @activity.defn
    def park_event(self, event: ParkEvent) -> str:
        """Returns the dead letter's event id."""
        with self._sessions() as session:
            parked = session.get(ParkedEvent, event.id)
            if parked is not None:
                return parked.dead_letter_id
            letter = dead_letter_of(event)
            key = event.key or event.event_id or event.id
            outbox.enqueue(session, topics.DEAD_LETTER, key, self._claims.seal(letter))
            flag = self._flag(event) if event.case_id else None
            now = datetime.now(UTC)
            session.add(
                ParkedEvent(
                    id=event.id,
                    workflow_id=event.workflow_id,
                    workflow_type=event.workflow_type,
                    kind=event.kind,
                    event_id=event.event_id,
                    case_id=event.case_id,
                    key=event.key,
                    error_type=event.error_type[:64],
                    reason=safe(event.reason),
                    payload=event.payload,  # JSON: a NUL in it is the escape \u0000
                    dead_letter_id=letter.event_id,
                    parked_at=now,
                )
            )
            details = {
                "kind": event.kind,
                "workflow_id": event.workflow_id,
                "event_id": event.event_id,
                "error_type": event.error_type,
                "dead_letter": letter.event_id,
            }
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="event.parked",
                    outcome="failed",
                    case_id=event.case_id,
                    occurred_at=now,
                    idempotency_key=f"parked:{event.id}"[:200],
                    reason=safe(event.reason, 500),
                    details=details,
                ),
            )
            if flag is not None:
                audit.append(
                    session,
                    AuditEntry(
                        actor=ACTOR,
                        action="case.flagged",
                        outcome="failed",
                        case_id=event.case_id,
                        occurred_at=now,
                        idempotency_key=f"flagged:{event.id}"[:200],
                        reason="案件处理中出现无法自动恢复的错误，已转领导小组办公室",
                        details=details,
                    ),
                )
                notify.record(session, [flag], None)
            session.commit()
        activity.logger.warning(
            "parked %s %s (%s): %s", event.kind, event.event_id, event.error_type, event.reason
        )
        return letter.event_id

    @staticmethod
    def _flag(event: ParkEvent) -> Notification:
        return Notification(
            event_id=f"flagged:{event.id}"[:160],
            occurred_at=datetime.now(UTC),
            kind=NotificationKind.PROCESSING_FAILED,
            recipient=LEADING_OFFICE,
            case_id=event.case_id,
            priority="critical",
            title=f"案件 {event.case_id} 处理异常",
            text=(
                f"案件 {event.case_id} 的一项处理（{event.kind}）无法记录，已暂存待处理"
                f"（错误类型 {event.error_type}），请核查。可用 tuoyu parked list 查看。"
            ),
        )
