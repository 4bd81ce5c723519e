"""What each step of a joint punishment does, in one table, and the code that reads it for
both activities that record steps (`record_credit_step`, `record_repair_step`).

A row says: whether the step opens the entry, the status the entry takes, the dispatch (to
whom, which text, due by when), the line in the integrity file, the action sent to the credit
platform, how often the step may be recorded (its idempotency key), which entry time it
stamps, and whether the departments still pending get a unit record (escalation). The texts
are in `workflows/enforcement/texts.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from models.cases import Case, UnitRecord, UnitRecordKind
from models.credit import CreditEntry, CreditStatus, CreditStep, Measure
from models.credit_repair import RepairStep
from models.credit_steps import CreditStepKind as K
from models.integrity import IntegrityKind as I
from models.notifications import Notification
from models.notifications import NotificationKind as N
from workflows.enforcement import texts
from workflows.enforcement.common import (
    LEADING_OFFICE,
    audit_step,
    file_line,
    notice,
    unit_name,
    unit_names,
)
from workflows.enforcement.texts import beijing


class To(StrEnum):
    """Who a step's dispatch goes to."""

    TOWN = "town"  # the case's town, which tells the institution
    MEASURES = "measures"  # every member department, each with its measure
    PENDING_MEASURES = "pending-measures"  # the departments yet to lift, with their measure
    PENDING = "pending"  # the departments yet to answer
    LEADING_OFFICE = "leading-office"


class Once(StrEnum):
    """How often a step is recorded: its idempotency key."""

    PER_STEP = "step"
    PER_UNIT = "unit"  # once per acknowledging department
    PER_MOMENT = "moment"  # a repair may be asked and reviewed more than once


@dataclass(frozen=True)
class Facts:
    """What the rows read of a step, whichever activity records it."""

    entry_id: str
    step: K
    at: datetime
    reason: str | None
    unit: str | None
    pending: list[str]
    order36: bool
    moments: dict[str, datetime | None]  # the plan's deadlines, or a repair step's `due`

    @classmethod
    def of(cls, step: CreditStep | RepairStep) -> Facts:
        if isinstance(step, CreditStep):
            plan, order36 = step.plan, step.order36
            moments = {
                "objection_by": plan.objection_by,
                "publicity_until": plan.publicity_until,
                "acknowledge_by": plan.acknowledge_by,
                "acknowledge_final_by": plan.acknowledge_final_by,
            }
        else:
            order36, moments = True, {"due": step.due}
        return cls(
            entry_id=step.entry_id,
            step=step.step,
            at=step.at,
            reason=step.reason,
            unit=step.actor.unit,
            pending=list(step.pending),
            order36=order36,
            moments=moments,
        )


@dataclass(frozen=True)
class Dispatch:
    kind: N
    to: To
    text: tuple[str, str]  # title, text
    due: str | None = None  # the moment it is due by
    order36: bool = True  # False: under Order 36 the lifting is chased instead


def _published(entry: CreditEntry, f: Facts) -> None:
    entry.published_at, entry.publicity_until = f.at, f.moments["publicity_until"]


def _removed(entry: CreditEntry, f: Facts) -> None:
    entry.removed_at, entry.removal_reason = f.at, f.reason


def _committed(entry: CreditEntry, f: Facts) -> None:
    entry.commitment_at = f.at


def _lifted(entry: CreditEntry, f: Facts) -> None:
    entry.lifted_at = f.at


@dataclass(frozen=True)
class Row:
    opens: bool = False  # creates the entry
    status: CreditStatus | None = None  # the entry's status after the step
    dispatch: Dispatch | None = None
    integrity: tuple[I, str] | None = None  # kind, summary
    platform: str | None = None  # the credit platform's action
    once: Once = Once.PER_STEP
    stamp: Callable[[CreditEntry, Facts], None] | None = None
    escalates: tuple[str, str] | None = None  # unit record of each pending unit: key, reason


STEPS: dict[K, Row] = {
    K.NOTICED: Row(
        opens=True,
        status=CreditStatus.NOTICED,
        dispatch=Dispatch(N.PRIOR_NOTICE, To.TOWN, texts.PRIOR_NOTICE, "objection_by"),
        integrity=(I.CREDIT_NOTICE, texts.NOTICE_SUMMARY),
    ),
    K.OBJECTED: Row(status=CreditStatus.OBJECTED),
    K.WITHDRAWN: Row(status=CreditStatus.WITHDRAWN),
    K.OBJECTION_REJECTED: Row(),
    K.PUBLISHED: Row(
        status=CreditStatus.PUBLISHED,
        dispatch=Dispatch(
            N.JOINT_PUNISHMENT, To.MEASURES, texts.JOINT_PUNISHMENT, "acknowledge_by"
        ),
        integrity=(I.CREDIT_ENTRY, texts.ENTRY_SUMMARY),
        platform="entry",
        stamp=_published,
    ),
    K.ACKNOWLEDGED: Row(once=Once.PER_UNIT),
    K.REMINDED: Row(
        dispatch=Dispatch(
            N.REMINDER, To.PENDING, texts.ACKNOWLEDGMENT_REMINDER, "acknowledge_final_by"
        ),
    ),
    K.ESCALATED: Row(
        dispatch=Dispatch(N.ESCALATION, To.LEADING_OFFICE, texts.ACKNOWLEDGMENT_ESCALATION),
        escalates=("unacknowledged", texts.UNACKNOWLEDGED),
    ),
    K.REMOVED: Row(
        status=CreditStatus.REMOVED,
        dispatch=Dispatch(N.CREDIT_REMOVAL, To.MEASURES, texts.REMOVAL, order36=False),
        integrity=(I.CREDIT_REMOVAL, texts.REMOVAL_SUMMARY),
        platform="removal",
        stamp=_removed,
    ),
    K.REPAIR_REQUESTED: Row(once=Once.PER_MOMENT),
    K.REPAIR_REVIEWED: Row(once=Once.PER_MOMENT),
    # Order 36
    K.NOT_PUBLISHED: Row(integrity=(I.CREDIT_NOTICE, texts.NOT_PUBLISHED_SUMMARY)),
    K.COMMITTED: Row(integrity=(I.CREDIT_COMMITMENT, texts.COMMITMENT_SUMMARY), stamp=_committed),
    K.LIFTING: Row(
        dispatch=Dispatch(N.CREDIT_LIFTING, To.PENDING_MEASURES, texts.LIFTING, "due"),
        integrity=(I.CREDIT_LIFTING, texts.LIFTING_SUMMARY),
    ),
    K.LIFTING_ACKNOWLEDGED: Row(
        integrity=(I.CREDIT_LIFTING, texts.LIFTING_ACKNOWLEDGED_SUMMARY), once=Once.PER_UNIT
    ),
    K.LIFTING_REMINDED: Row(
        dispatch=Dispatch(N.REMINDER, To.PENDING, texts.LIFTING_REMINDER, "due"),
        integrity=(I.CREDIT_LIFTING, texts.LIFTING_REMINDED_SUMMARY),
    ),
    K.LIFTING_ESCALATED: Row(
        dispatch=Dispatch(N.ESCALATION, To.LEADING_OFFICE, texts.LIFTING_ESCALATION, "due"),
        integrity=(I.CREDIT_LIFTING, texts.LIFTING_ESCALATED_SUMMARY),
        escalates=("lifting-unacknowledged", texts.LIFTING_UNACKNOWLEDGED),
    ),
    K.LIFTED: Row(integrity=(I.CREDIT_LIFTING, texts.LIFTED_SUMMARY), stamp=_lifted),
}


def key(f: Facts) -> str:
    """The step's idempotency key (its audit record's, dispatches' and integrity line's)."""
    once = STEPS[f.step].once
    suffix = {
        Once.PER_STEP: "",
        Once.PER_UNIT: f":{f.unit}",
        Once.PER_MOMENT: f":{f.at.isoformat()}",
    }
    return f"{f.entry_id}:{f.step}{suffix[once]}"


def _fields(f: Facts, case: Case) -> dict[str, Any]:
    return {
        "name": case.institution_name or "涉事机构",
        "case": case.id,
        "reason": f.reason,
        "pending": unit_names(f.pending),
        "unit": unit_name(f.unit or ""),
        **{name: beijing(moment) for name, moment in f.moments.items()},
    }


def dispatches(f: Facts, case: Case, measures: list[Measure], key: str) -> list[Notification]:
    d = STEPS[f.step].dispatch
    if d is None or (f.order36 and not d.order36):
        return []
    recipients: dict[To, list[tuple[str, Measure | None]]] = {
        To.TOWN: [(case.town, None)],
        To.MEASURES: [(m.department, m) for m in measures],
        To.PENDING_MEASURES: [(m.department, m) for m in measures if m.department in f.pending],
        To.PENDING: [(unit, None) for unit in f.pending],
        To.LEADING_OFFICE: [(LEADING_OFFICE, None)],
    }
    fields, (title, text) = _fields(f, case), d.text
    due = f.moments[d.due] if d.due else None
    return [
        notice(
            key,
            d.kind,
            unit,
            f.at,
            title.format(**fields),
            text.format(
                **fields, **({"measure": m.measure, "legal_basis": m.legal_basis} if m else {})
            ),
            case.id,
            due,
        )
        for unit, m in recipients[d.to]
    ]


def apply(
    session: Session, f: Facts, case: Case, entry: CreditEntry | None, key: str, **details: Any
) -> None:
    """The step's rows: the entry's status and times, unit records, the integrity line."""
    row = STEPS[f.step]
    if entry is not None:
        if row.status is not None:
            entry.status = row.status
        if row.stamp is not None:
            row.stamp(entry, f)
        session.add(entry)
    if row.escalates is not None:
        part, reason = row.escalates
        for unit in f.pending:
            session.add(
                UnitRecord(
                    key=f"{f.entry_id}:{part}:{unit}",
                    unit=unit,
                    case_id=case.id,
                    kind=UnitRecordKind.ESCALATED,
                    reason=reason,
                    occurred_at=f.at,
                )
            )
    if row.integrity is not None:
        kind, summary = row.integrity
        file_line(
            session,
            case,
            key,
            kind,
            summary.format(**_fields(f, case)),
            f.at,
            entry_id=f.entry_id,
            **details,
        )


def audit(session: Session, step: CreditStep | RepairStep, case: Case, key: str) -> None:
    """The step's audit record: `credit.<step>`, by whoever took it."""
    audit_step(
        session,
        f"credit.{step.step}",
        key,
        case,
        step.at,
        by=step.actor,
        reason=step.reason,
        entry_id=step.entry_id,
        pending=step.pending,
    )
