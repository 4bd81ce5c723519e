"""Database reads for the API."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.cases import Case, CaseAssignment, CasePublic


def get_case(*, session: Session, case_id: str) -> CasePublic | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    units = session.exec(
        select(CaseAssignment.unit)
        .where(CaseAssignment.case_id == case_id)
        .order_by(col(CaseAssignment.unit))
    ).all()
    return CasePublic.model_validate(case, update={"assigned_units": list(units)})
