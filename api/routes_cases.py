"""Cases and reference data."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import col, select

from api import crud
from api.deps import SessionDep
from api.errors import ApiError
from models.cases import CasePublic
from models.units import Unit, UnitPublic

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/cases/{case_id}", response_model=CasePublic)
def read_case(case_id: str, session: SessionDep) -> CasePublic:
    case = crud.get_case(session=session, case_id=case_id)
    if case is None:
        raise ApiError(
            404, "case_not_found", "未找到该案件；如刚刚提交，请稍后再查询。", {"case_id": case_id}
        )
    return case


@router.get("/units", response_model=list[UnitPublic])
def list_units(session: SessionDep) -> list[Unit]:
    return list(session.exec(select(Unit).order_by(col(Unit.kind), col(Unit.code))).all())
