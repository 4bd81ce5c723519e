"""Cases (inbox, detail, live state, history) and reference data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from sqlmodel import col, select

from api import crud, inbox
from api.access import case_for, inbox_unit, led_categories, may_see_complainant
from api.case_actions import allowed_actions, query_state
from api.deps import AuditSessionDep, SessionDep, TemporalDep, VaultDep
from api.errors import ApiError
from api.identity import ActorDep
from infra import audit, reference
from infra.vault import VaultError
from models.actors import Role
from models.cases import CasePublic, CaseStatus, ComplainantContact, UnitRecord
from models.sealed import Sealed
from models.units import Unit, UnitPublic
from models.workflow_io import CaseState

router = APIRouter(prefix="/api/v1", tags=["cases"])


def not_found(case_id: str) -> ApiError:
    return ApiError(
        404, "case_not_found", "未找到该案件；如刚刚提交，请稍后再查询。", {"case_id": case_id}
    )


@router.get("/cases", response_model=list[CasePublic])
async def list_cases(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: ActorDep,
    unit: str | None = Query(default=None, description="cases this unit handles or works on"),
    status: CaseStatus | None = None,
    pending: Literal["return", "extension"] | None = Query(
        default=None,
        description="waiting for a decision: 'return' (退单审核), 'extension' (延期审批)",
    ),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[CasePublic]:
    unit = inbox_unit(actor, unit)
    cases = crud.list_cases(
        session=session,
        unit=unit,
        status=status,
        limit=limit,
        offset=offset,
        led_categories=led_categories(unit),
        pending=pending,
    )
    found = [c for c in (crud.get_case(session=session, case_id=x.id) for x in cases) if c]
    session.rollback()
    roles = await run_in_threadpool(inbox.unit_roles, request, unit, [c.id for c in found])
    finals = await inbox.current_deadlines(request, found)
    for c in found:
        c.unit_role = roles.get(c.id)
        current = {CaseStatus.DISPATCHED: c.accept_by, CaseStatus.ACCEPTED: c.resolve_by}
        c.due_by = finals.get(c.id) or current.get(c.status)
    # The pages count down on the server's clock (ms precision; the Date header has seconds).
    response.headers["X-Server-Time"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return found


@router.get("/cases/{case_id}", response_model=CasePublic)
async def read_case(
    case_id: str, session: SessionDep, actor: ActorDep, temporal: TemporalDep
) -> CasePublic:
    """The case, with `allowed_actions`: what this caller may do now (the action paths under
    /api/v1/cases/{id}/), computed from the workflow's state by the validators' own rules."""
    case_for(session, actor, case_id)
    case = crud.get_case(session=session, case_id=case_id)
    if case is None:
        raise not_found(case_id)
    session.rollback()
    if case.status not in (CaseStatus.CLOSED, CaseStatus.MERGED):
        case.allowed_actions = await allowed_actions(temporal, case_id, actor)
    return case


@router.get("/cases/{case_id}/state", response_model=CaseState)
async def read_state(
    case_id: str, temporal: TemporalDep, session: SessionDep, actor: ActorDep
) -> CaseState:
    """The workflow's own view: handler, level, deadlines and recent history."""
    case_for(session, actor, case_id)
    state = await query_state(temporal, case_id)
    if state is None:
        raise not_found(case_id)
    return state


@router.get("/cases/{case_id}/history")
def read_history(case_id: str, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Every audited step of the case, in order, from the tamper-evident trail."""
    case_for(session, actor, case_id)
    records = crud.case_history(session=session, case_id=case_id)
    if not records:
        raise not_found(case_id)
    return [r.model_dump(exclude={"prev_hash"}) for r in records]


@router.get("/units", response_model=list[UnitPublic])
def list_units(session: SessionDep, _: ActorDep) -> list[Unit]:
    return list(session.exec(select(Unit).order_by(col(Unit.kind), col(Unit.code))).all())


@router.get("/units/{code}/records", response_model=list[UnitRecord])
def list_unit_records(code: str, session: SessionDep, actor: ActorDep) -> list[UnitRecord]:
    """Records against a unit: escalations and public notices and interviews (通报约谈)."""
    inbox_unit(actor, code)
    return crud.unit_records(session=session, unit=code)


class ComplainantView(BaseModel):
    case_id: str
    name: str | None
    phone: str | None
    taken_by: str | None
    email: str | None = None  # given by Open311 reporters (FixMyStreet sends it)


@router.get("/cases/{case_id}/complainant", response_model=ComplainantView)
def read_complainant(
    case_id: str,
    session: SessionDep,
    audit_session: AuditSessionDep,
    vault: VaultDep,
    actor: ActorDep,
) -> ComplainantView:
    """The caller's contact: for the operator who took the call and the units working on the
    case. Every view is recorded in the audit trail."""
    case = case_for(session, actor, case_id)
    contact = session.get(ComplainantContact, case_id)
    if case.confidential and actor.role in (Role.TOWN, Role.DEPARTMENT):
        raise ApiError(
            403,
            "confidential",
            "该投诉人要求保密，联系方式由12345热线中心保管，承办单位不能查看；"
            "如需向投诉人核实情况，请联系热线中心代为回访。",
        )
    if not may_see_complainant(session, actor, case, contact):
        raise ApiError(403, "forbidden", "无权查看来电人信息。")
    if contact is None:
        raise ApiError(404, "no_complainant", "该案件为匿名投诉或未留联系方式。")
    audit.viewed(
        audit_session,
        actor,
        "complainant.viewed",
        "查看来电人联系方式",
        case_id=case_id,
        institution=case.institution_name,
    )
    name, phone = contact.name, contact.phone  # a row from before contacts were sealed
    email = None
    if contact.sealed is not None:
        try:
            clear = vault.open_contact(
                Sealed.model_validate_json(contact.sealed), case.source_event_id
            )
        except (VaultError, ValidationError) as exc:
            raise ApiError(
                409, "contact_sealed", "来电人信息无法解密，请联系系统管理员。", str(exc)
            ) from exc
        name, phone, email = clear.name, clear.phone, clear.email
    audit_session.commit()
    return ComplainantView(
        case_id=case_id, name=name, phone=phone, taken_by=contact.taken_by, email=email
    )


class Me(BaseModel):
    name: str
    role: str
    unit: str | None
    unit_name: str | None


@router.get("/me", response_model=Me)
def read_me(actor: ActorDep) -> Me:
    """Who the token belongs to (the web pages show it and pick the inbox from it)."""
    units = reference.units()
    unit = units.get(actor.unit) if actor.unit else None
    return Me(
        name=actor.name,
        role=actor.role,
        unit=actor.unit,
        unit_name=unit.name if unit else None,
    )


class CategoryPublic(BaseModel):
    code: str
    name: str
    priority: str


@router.get("/catalogue", response_model=list[CategoryPublic])
def read_catalogue(_: ActorDep) -> list[CategoryPublic]:
    """The complaint categories with their names and priorities."""
    return [
        CategoryPublic(code=code, name=info.name, priority=info.priority)
        for code, info in reference.catalogue().items()
    ]
