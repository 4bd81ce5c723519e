"""Lifetime bans (终身禁入): the staff check before hiring, the list of bans, and their
authorised correction. Identity numbers arrive only in `staff-checks`; they are hashed on
receipt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.access import check_staff_jurisdiction, may_read_bans, staff_checker
from api.deps import AuditSessionDep, HasherDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.identity import ActorDep, WriterDep, require
from infra import audit
from models.actors import Actor, Role
from models.bans import Ban, BanPublic, BanStatus
from models.bounds import Line
from models.enforcement import CorrectBan, CorrectionBody
from models.people import PersonIdentity
from models.registry import RegistryCommand, StaffCheckResult, StaffCommand
from models.staff import StaffRole
from workflows.registry.starter import StaffCheckUnavailable, check_staff

router = APIRouter(prefix="/api/v1", tags=["enforcement"])


def checking_staff(actor: WriterDep) -> Actor:
    if not staff_checker(actor):
        raise ApiError(403, "forbidden", "只有卫生健康部门、登记机关和镇（街道）可以核查从业人员。")
    return actor


class StaffCheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: PersonIdentity
    institution_id: Line | None = Field(default=None, max_length=64)
    role: StaffRole | None = None
    manager: PersonIdentity | None = None
    hire: bool = Field(default=False, description="record the person as employed if clear")
    event_id: Line | None = Field(default=None, max_length=128, description="for safe retries")


@router.post("/staff-checks", response_model=StaffCheckResult, summary="从业人员禁入核查")
async def staff_check(
    body: StaffCheckBody,
    actor: Annotated[Actor, Depends(checking_staff)],
    session: SessionDep,
    hasher: HasherDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> StaffCheckResult:
    if body.hire and not body.institution_id:
        raise ApiError(422, "institution_required", "登记入职须写明机构编号。")
    check_staff_jurisdiction(session, actor, body.institution_id)
    command = RegistryCommand(
        staff=StaffCommand(
            type="staff-hired" if body.hire else "check",
            event_id=body.event_id or f"api-{uuid.uuid4()}",
            occurred_at=datetime.now(UTC),
            institution_id=body.institution_id,
            person=hasher.ref(body.person),
            role=body.role,
            manager=hasher.ref(body.manager) if body.manager else None,
            channel=f"http:{actor.label}"[:32],
        )
    )
    try:
        return await check_staff(
            temporal, command, settings.temporal_task_queue, settings.staff_check_timeout
        )
    except StaffCheckUnavailable as exc:
        raise ApiError(
            503,
            "check_unavailable",
            "禁入核查暂时无法完成，请稍后重试；如多次失败，请联系系统管理员。",
            str(exc),
        ) from exc


@router.get("/bans", response_model=list[BanPublic], summary="终身禁入名单（身份证号脱敏）")
def list_bans(
    session: SessionDep,
    audit_session: AuditSessionDep,
    actor: ActorDep,
    status: BanStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Ban]:
    """A view of protected data: recorded in the audit trail."""
    if not may_read_bans(actor):
        raise ApiError(403, "forbidden", "无权查看禁入名单。")
    q = select(Ban).order_by(col(Ban.banned_at).desc()).limit(limit)
    if status is not None:
        q = q.where(Ban.status == status)
    bans = list(session.exec(q).all())
    audit.viewed(
        audit_session,
        actor,
        "bans.viewed",
        "查看终身禁入名单",
        details={"shown": len(bans), "status": status},
    )
    audit_session.commit()
    return bans


@router.post("/bans/{ban_id}/correction", response_model=BanPublic, summary="更正禁入决定")
async def correct_ban(
    ban_id: str,
    body: CorrectionBody,
    actor: Annotated[Actor, require(Role.ADMIN, Role.LEADING_OFFICE)],
    temporal: TemporalDep,
    settings: SettingsDep,
    session: SessionDep,
) -> Ban:
    """Only an administrator or the leading group office, with a reason (e.g. a court
    ruling). The ban is marked corrected and stays in the registry and the audit trail."""
    found = await temporal.execute_workflow(
        "BanCorrectionWorkflow",
        CorrectBan(ban_id=ban_id, reason=body.reason, actor=actor),
        id=f"ban-correction-{ban_id}-{uuid.uuid4().hex[:8]}",
        task_queue=settings.temporal_task_queue,
        result_type=bool,
    )
    session.rollback()  # a fresh snapshot, after the workflow's write
    ban = session.get(Ban, ban_id)
    if not found or ban is None:
        raise ApiError(404, "ban_not_found", "未找到该禁入记录。")
    return ban
