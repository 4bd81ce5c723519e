"""What the enforcement activities share: the system actor, unit names, a dispatch, the
audit record of a step on a case, and its line in the institution's integrity file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from infra import audit, integrity, reference
from models.actors import Actor
from models.audit import AuditEntry
from models.cases import Case
from models.integrity import IntegrityKind
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
    /,
    *,
    by: Actor | None = None,
    reason: str | None = None,
    person_hash: str | None = None,
    **details: Any,
) -> None:
    """The step's audit record, by `by` (the system when none), once per `key`."""
    audit.append(
        session,
        AuditEntry(
            actor=by.label if by else ACTOR,
            actor_role=by.role if by else "system",
            actor_unit=by.unit if by else None,
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


def file_line(
    session: Session,
    case: Case,
    key: str,
    kind: IntegrityKind,
    summary: str,
    at: datetime,
    /,
    **details: Any,
) -> None:
    """The step's line in the integrity file of the case's institution, once per `key`."""
    integrity.append(
        session,
        key=key,
        institution_key=case.institution_key,
        institution_name=case.institution_name,
        kind=kind,
        case_id=case.id,
        summary=summary,
        occurred_at=at,
        details=details,
    )
