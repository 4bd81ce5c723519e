"""Which earlier case a report belongs to: the open case it joins (并案), or the case already
done that it is linked to (关联). Used by the case activities, and by the API to tell the
operator before the call ends."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlmodel import Session, col, select

from infra.deadlines import after
from models.cases import Case, CaseAssignment, CaseStatus
from models.complaints import ComplaintReceived
from models.deadlines import Duration
from models.institutions import Institution

# Only a case still being worked on takes in another report (issue: a second family's abuse
# report joined a case that had already reported its result, and nobody was told).
JOINABLE = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)
DONE = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


def institution_key(complaint: ComplaintReceived, institution: Institution | None) -> str | None:
    if institution is not None:
        return f"id:{institution.id}"
    if complaint.institution_name:
        name = "".join(complaint.institution_name.split())
        return f"name:{complaint.town}:{name}"
    return None


def key_for(session: Session, complaint: ComplaintReceived) -> str | None:
    institution = (
        session.get(Institution, complaint.institution_id) if complaint.institution_id else None
    )
    return institution_key(complaint, institution)


def _candidates(
    session: Session,
    complaint: ComplaintReceived,
    key: str,
    statuses: tuple[CaseStatus, ...],
    window: Duration,
) -> list[Case]:
    rows = session.exec(
        select(Case)
        .where(Case.institution_key == key)
        .where(Case.category == complaint.category)
        .where(col(Case.status).in_(statuses))
        .where(Case.received_at <= complaint.occurred_at)
        .order_by(col(Case.received_at))
    ).all()
    return [c for c in rows if after(c.received_at, window) >= complaint.occurred_at]


def open_duplicate(
    session: Session, complaint: ComplaintReceived, key: str, window: Duration, *, lock: bool
) -> str | None:
    """The open case this report duplicates: same institution and category, received within
    the window, still dispatched or accepted."""
    if lock and session.get_bind().dialect.name == "postgresql":
        # Two duplicates arriving together must not both open a case.
        k = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=k))  # type: ignore[call-overload]
    found = _candidates(session, complaint, key, JOINABLE, window)
    return found[0].id if found else None


def done_case(
    session: Session, complaint: ComplaintReceived, key: str, window: Duration
) -> str | None:
    """The latest case about the same institution and concern that already has its result."""
    found = _candidates(session, complaint, key, DONE, window)
    return found[-1].id if found else None


def units_of(session: Session, case_id: str) -> list[str]:
    """The units that worked on a case (its handler last), to tell them of a related report."""
    rows = session.exec(select(CaseAssignment.unit).where(CaseAssignment.case_id == case_id)).all()
    case = session.get(Case, case_id)
    units = [*rows, *([case.result_unit] if case and case.result_unit else [])]
    return list(dict.fromkeys(u for u in units if u))
