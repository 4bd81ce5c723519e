"""What a caller may learn without an account: the public status of their case, given its
number and the tracking code they were told."""

from __future__ import annotations

import hmac
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import HasherDep, SessionDep
from api.errors import ApiError
from infra import reference
from models.cases import Case, CaseStatus

router = APIRouter(prefix="/api/v1/public", tags=["public"])
OPEN = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)

STATUS_TEXT = {
    CaseStatus.DISPATCHED: "已受理，已派发承办单位",
    CaseStatus.ACCEPTED: "承办单位已签收，正在调查处理",
    CaseStatus.RESOLVED: "已有处理结果，待回访",
    CaseStatus.CLOSED: "已办结",
    CaseStatus.MERGED: "已与同一机构同类投诉合并办理",
}


class PublicStatus(BaseModel):
    case_id: str
    status: CaseStatus
    status_text: str
    received_at: datetime
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    merged_into: str | None = None
    resolve_by: datetime | None = Field(
        default=None, description="办结时限 (after an approved extension, the new date)"
    )
    extended: bool = False
    # Once there is a result: what the handling unit answered, and which unit it was.
    answer: str | None = None
    handling_unit: str | None = None


@router.get("/status", response_model=PublicStatus)
def public_status(
    session: SessionDep,
    hasher: HasherDep,
    case_id: str = Query(min_length=1, max_length=32, description="案件编号"),
    code: str = Query(min_length=1, max_length=16, description="查询码"),
) -> PublicStatus:
    """No account needed. A wrong code and an unknown case get the same answer. The case
    number is read in any case (callers type "ty2026..." as often as "TY2026...")."""
    case_id = case_id.strip().upper()
    expected = hasher.tracking_code(case_id)
    case = session.get(Case, case_id)
    given = code.strip().upper().encode("utf-8")
    if not hmac.compare_digest(expected.encode("ascii"), given) or case is None:
        raise ApiError(
            404,
            "not_found",
            "案件编号或查询码不正确；如刚刚提交，请稍后再查询。",
        )
    return PublicStatus(
        case_id=case.id,
        status=case.status,
        status_text=STATUS_TEXT[CaseStatus(case.status)],
        received_at=case.received_at,
        accepted_at=case.accepted_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        merged_into=case.merged_into,
        resolve_by=case.resolve_by if case.status in OPEN else None,
        extended=case.extended,
        answer=case.findings if case.resolved_at is not None else None,
        handling_unit=unit.name
        if (unit := reference.units().get(case.result_unit or ""))
        else None,
    )
