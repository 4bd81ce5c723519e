"""What the enforcement activities share: the system actor, unit names, a dispatch, and an
audit record of a step on a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from infra import audit, reference
from models.audit import AuditEntry
from models.cases import Case
from models.notifications import Notification, NotificationKind

ACTOR = "system:enforcement"
LEADING_OFFICE = "leading-office"


def unit_name(code: str) -> str:
    unit = reference.units().get(code)
    return unit.name if unit else code


def unit_names(codes: list[str]) -> str:
    return "、".join(unit_name(u) for u in codes)


def notice(
    key: str,
    kind: NotificationKind,
    recipient: str,
    at: datetime,
    title: str,
    text: str,
    case_id: str | None,
    due_at: datetime | None = None,
) -> Notification:
    """One dispatch of a step to one unit; the event id makes it once per step and unit."""
    return Notification(
        event_id=f"{key}:{kind}:{recipient}",
        occurred_at=at,
        kind=kind,
        recipient=recipient,
        case_id=case_id,
        priority="high",
        due_at=due_at,
        title=title,
        text=f"{unit_name(recipient)}：\n{text}",
    )


def audit_step(
    session: Session,
    action: str,
    key: str,
    case: Case,
    at: datetime,
    *,
    actor: str = ACTOR,
    role: str = "system",
    unit: str | None = None,
    reason: str | None = None,
    person_hash: str | None = None,
    **details: Any,
) -> None:
    audit.append(
        session,
        AuditEntry(
            actor=actor,
            actor_role=role,
            actor_unit=unit,
            action=action,
            reason=reason,
            person_hash=person_hash,
            case_id=case.id,
            institution=case.institution_name,
            occurred_at=at,
            idempotency_key=key,
            details=details,
        ),
    )
