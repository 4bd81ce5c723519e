"""Database reads for the API."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from models.audit import AuditRecord
from models.cases import Case, CaseAssignment, CaseLink, CasePublic, CaseStatus, UnitRecord


def get_case(*, session: Session, case_id: str) -> CasePublic | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    units = session.exec(
        select(CaseAssignment.unit)
        .where(CaseAssignment.case_id == case_id)
        .where(CaseAssignment.role != "former")
        .order_by(col(CaseAssignment.unit))
    ).all()
    links = session.exec(
        select(CaseLink.linked_case_id)
        .where(CaseLink.case_id == case_id)
        .order_by(col(CaseLink.linked_at))
    ).all()
    related = session.exec(
        select(Case.id).where(Case.related_to == case_id).order_by(col(Case.received_at))
    ).all()
    return CasePublic.model_validate(
        case,
        update={
            "assigned_units": list(units),
            "linked_cases": list(links),
            "related_cases": list(related),
        },
    )


def list_cases(
    *,
    session: Session,
    unit: str | None = None,
    status: CaseStatus | None = None,
    limit: int = 100,
    offset: int = 0,
    led_categories: list[str] | None = None,
    pending: str | None = None,
) -> list[Case]:
    """The inbox: cases a unit handles or works on, the cases of its jurisdiction (a town)
    and of the categories it leads (a city department): what it may read, newest first."""
    query = select(Case)
    if unit is not None:
        involved = (
            select(CaseAssignment.case_id)
            .where(CaseAssignment.unit == unit)
            .where(CaseAssignment.role != "former")
        )
        scope: list[ColumnElement[bool]] = [col(Case.id).in_(involved), col(Case.town) == unit]
        if led_categories:
            scope.append(col(Case.category).in_(led_categories))
        query = query.where(or_(*scope))
    if status is not None:
        query = query.where(Case.status == status)
    if pending is not None:
        query = query.where(Case.pending == pending)
    query = query.order_by(col(Case.received_at).desc()).offset(offset).limit(limit)
    return list(session.exec(query).all())


def case_history(*, session: Session, case_id: str) -> list[AuditRecord]:
    return list(
        session.exec(
            select(AuditRecord).where(AuditRecord.case_id == case_id).order_by(col(AuditRecord.seq))
        ).all()
    )


def unit_records(*, session: Session, unit: str) -> list[UnitRecord]:
    return list(
        session.exec(
            select(UnitRecord)
            .where(UnitRecord.unit == unit)
            .order_by(col(UnitRecord.occurred_at).desc())
        ).all()
    )
