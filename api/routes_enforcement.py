"""Enforcement: decisions, re-inspections, joint punishment, bans, staff checks, integrity files.

Identity numbers arrive only in `staff-checks` and case results; they are hashed on receipt.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.access import (
    case_for,
    check_integrity_reader,
    check_staff_jurisdiction,
    full_integrity,
    may_read_bans,
    staff_checker,
)
from api.case_actions import query, update
from api.deps import (
    AuditSessionDep,
    EnforcementPolicyDep,
    HasherDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.errors import ApiError
from api.identity import ActingDep, ActorDep, WriterDep, require
from infra import audit, audit_queries, integrity
from infra.credit_tiers import UnknownSanction, period_refusal, tier_of
from infra.identity import IdentityNumberError
from models.actors import Actor, Role
from models.audit import AuditEntry, AuditPage, AuditQuery
from models.bans import Ban, BanPublic, BanStatus
from models.bounds import Line
from models.credit import (
    Acknowledge,
    AcknowledgeBody,
    JointPunishmentState,
    ObjectionBody,
    RecordObjection,
    RequestRepair,
    Review,
    ReviewBody,
)
from models.enforcement import (
    CorrectBan,
    CorrectionBody,
    Decide,
    DecisionBody,
    EnforcementState,
    JointPunishmentBody,
    Reinspect,
    ReinspectionBody,
    StartJointPunishment,
)
from models.integrity import IntegrityRecordPublic
from models.people import PersonIdentity
from models.registry import RegistryCommand, StaffCheckResult, StaffCommand
from models.staff import StaffRole
from workflows.registry.starter import StaffCheckUnavailable, check_staff

router = APIRouter(prefix="/api/v1", tags=["enforcement"])
AuditorDep = Annotated[Actor, require(Role.AUDITOR, Role.ADMIN, Role.LEADING_OFFICE)]


def enforcement_of(case_id: str) -> str:
    return f"enforcement-{case_id}"


def acting_on_credit(entry_id: str, session: SessionDep, actor: WriterDep) -> Actor:
    """A credit entry (`credit-<case>`) is acted on only by who may see its case; the
    workflow then checks the step against the unit and the entry's state."""
    case_for(session, actor, entry_id.removeprefix("credit-"))
    session.rollback()
    return actor


CreditActingDep = Annotated[Actor, Depends(acting_on_credit)]


def acting_as_member(
    entry_id: str, session: SessionDep, actor: WriterDep, policy: EnforcementPolicyDep
) -> Actor:
    """A member department with measures acknowledges them, and their lifting, though the
    case itself may not be one it sees; the workflow checks that it is still to answer."""
    if actor.role is Role.DEPARTMENT and actor.unit in {m.department for m in policy.measures}:
        return actor
    return acting_on_credit(entry_id, session, actor)


MemberActingDep = Annotated[Actor, Depends(acting_as_member)]


def checking_staff(actor: WriterDep) -> Actor:
    if not staff_checker(actor):
        raise ApiError(403, "forbidden", "只有卫生健康部门、登记机关和镇（街道）可以核查从业人员。")
    return actor


@router.get("/cases/{case_id}/enforcement", response_model=EnforcementState)
async def read_enforcement(
    case_id: str, temporal: TemporalDep, session: SessionDep, actor: ActorDep
) -> EnforcementState:
    case_for(session, actor, case_id)
    state = await query(temporal, enforcement_of(case_id), EnforcementState)
    if state is None:
        raise ApiError(404, "no_enforcement", "该案件没有处理程序（仅查实的案件有）。")
    return state


@router.post("/cases/{case_id}/decisions", response_model=EnforcementState, summary="处理决定")
async def decide(
    case_id: str, body: DecisionBody, actor: ActingDep, temporal: TemporalDep
) -> EnforcementState:
    decision = Decide(**body.model_dump(), actor=actor)
    return await update(temporal, enforcement_of(case_id), "decide", decision, EnforcementState)


@router.post("/cases/{case_id}/reinspections", response_model=EnforcementState, summary="整改复查")
async def reinspect(
    case_id: str, body: ReinspectionBody, actor: ActingDep, temporal: TemporalDep
) -> EnforcementState:
    arg = Reinspect(**body.model_dump(), actor=actor)
    return await update(temporal, enforcement_of(case_id), "reinspect", arg, EnforcementState)


@router.post(
    "/cases/{case_id}/joint-punishment", response_model=EnforcementState, summary="启动联合惩戒"
)
async def joint_punishment(
    case_id: str,
    body: JointPunishmentBody,
    actor: ActingDep,
    temporal: TemporalDep,
    policy: EnforcementPolicyDep,
) -> EnforcementState:
    # Order 36: the tier follows the sanction (the enforcement file's table), the period
    # must lie within the tier's.
    try:
        tier = tier_of(policy, body.sanction, body.serious)
    except UnknownSanction:
        raise ApiError(
            422,
            "unknown_sanction",
            "未知的处罚种类，请从失信信息分级表中选择。",
            {"sanctions": [r.sanction for r in policy.tier_rules]},
        ) from None
    refusal = period_refusal(policy, tier, body.publicity_months)
    if refusal is not None:
        period = policy.tiers[tier]
        raise ApiError(
            422,
            "publicity_out_of_range",
            refusal,
            {"tier": tier, "min": period.min_months, "max": period.max_months},
        )
    arg = StartJointPunishment(**body.model_dump(), actor=actor)
    return await update(
        temporal, enforcement_of(case_id), "joint_punishment", arg, EnforcementState
    )


@router.get("/credit/{entry_id}", response_model=JointPunishmentState)
async def read_credit(
    entry_id: str, temporal: TemporalDep, session: SessionDep, actor: ActorDep
) -> JointPunishmentState:
    case_for(session, actor, entry_id.removeprefix("credit-"))
    state = await query(temporal, entry_id, JointPunishmentState)
    if state is None:
        raise ApiError(404, "credit_entry_not_found", "未找到该联合惩戒事项。")
    return state


@router.post(
    "/credit/{entry_id}/objection", response_model=JointPunishmentState, summary="登记异议"
)
async def objection(
    entry_id: str, body: ObjectionBody, actor: CreditActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = RecordObjection(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "object", arg, JointPunishmentState)


@router.post("/credit/{entry_id}/objection-review", response_model=JointPunishmentState)
async def objection_review(
    entry_id: str, body: ReviewBody, actor: CreditActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = Review(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "review_objection", arg, JointPunishmentState)


@router.post("/credit/{entry_id}/acknowledge", response_model=JointPunishmentState)
async def acknowledge(
    entry_id: str, body: AcknowledgeBody, actor: MemberActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = Acknowledge(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "acknowledge", arg, JointPunishmentState)


@router.post(
    "/credit/{entry_id}/repair", response_model=JointPunishmentState, summary="信用修复申请"
)
async def repair(
    entry_id: str, body: ObjectionBody, actor: CreditActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = RequestRepair(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "request_repair", arg, JointPunishmentState)


@router.post("/credit/{entry_id}/repair-review", response_model=JointPunishmentState)
async def repair_review(
    entry_id: str, body: ReviewBody, actor: CreditActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = Review(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "review_repair", arg, JointPunishmentState)


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
    audit.append(
        audit_session,
        AuditEntry(
            actor=actor.label,
            actor_role=actor.role,
            actor_unit=actor.unit,
            action="bans.viewed",
            channel="http",
            occurred_at=datetime.now(UTC),
            reason="查看终身禁入名单",
            details={"shown": len(bans), "status": status},
        ),
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


@router.get("/audit", response_model=AuditPage, summary="审计记录查询")
def audit_query(
    session: SessionDep,
    _: AuditorDep,
    q: Annotated[AuditQuery, Query()],
) -> AuditPage:
    """Paginated by sequence: pass `next_after_seq` back as `after_seq`."""
    return audit_queries.query(session, q)


class PersonAuditQuery(BaseModel):
    """The person by identity number, in the body so it never appears in a URL or a log."""

    model_config = ConfigDict(extra="forbid")

    id_number: Line = Field(min_length=18, max_length=64, description="any spelling; canonicalised")
    after_seq: int = Field(default=0, ge=0, le=2**31 - 1)
    limit: int = Field(default=100, ge=1, le=1000)


@router.post("/audit/by-person", response_model=AuditPage, summary="按人员查询审计记录")
def audit_by_person(
    body: PersonAuditQuery, session: SessionDep, _: AuditorDep, hasher: HasherDep
) -> AuditPage:
    """Every record concerning one person (staff checks, hiring, bans), found by the keyed
    hash of their identity number (in its canonical form, as every number is hashed)."""
    try:
        person_hash = hasher.hash(body.id_number)
    except IdentityNumberError as exc:
        raise ApiError(422, "invalid_id_number", str(exc)) from exc
    return audit_queries.query(
        session,
        AuditQuery(
            person_hash=person_hash,
            after_seq=body.after_seq,
            limit=body.limit,
        ),
    )


@router.get("/institutions/{institution_id}/integrity", response_model=list[IntegrityRecordPublic])
def institution_integrity(
    institution_id: str,
    session: SessionDep,
    actor: ActorDep,
    format: Literal["json", "csv", "jsonl"] = "json",
) -> object:
    """The integrity file (诚信档案) of a registered institution, oldest first."""
    return integrity_file(f"id:{institution_id}", session=session, actor=actor, format=format)


@router.get("/integrity", response_model=list[IntegrityRecordPublic])
def integrity_file(
    key: str,
    session: SessionDep,
    actor: ActorDep,
    format: Literal["json", "csv", "jsonl"] = "json",
) -> object:
    """By institution key: `id:<registry id>`, or `name:<town>:<name>` for one not registered.
    Health, the leading office, auditors and administrators read the whole file; everyone
    else its public credit information (decisions and credit-platform entries, naming no
    person and quoting no findings); a town only its own institutions' files."""
    check_integrity_reader(session, actor, key)
    records = [IntegrityRecordPublic.model_validate(r) for r in integrity.file_of(session, key)]
    if not full_integrity(actor):
        records = integrity.public_view(records)
    if format == "jsonl":
        return PlainTextResponse(
            "".join(r.model_dump_json() + "\n" for r in records), media_type="application/jsonl"
        )
    if format == "csv":
        return PlainTextResponse(integrity.to_csv(records), media_type="text/csv; charset=utf-8")
    return records
