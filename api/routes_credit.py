"""A joint punishment's credit entry (`credit_entry_id(case)`, started in
`routes_enforcement`): its state, the institution's objection and its review, the member
departments' acknowledgments, credit repair (request and review), and under NDRC Order No. 36
the tier table in force, the institution's credit commitment, and each department's
acknowledgment that it lifted its measures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.access import case_for
from api.case_actions import query, update
from api.deps import EnforcementPolicyDep, SessionDep, TemporalDep
from api.errors import ApiError
from api.identity import ActorDep, WriterDep
from models.actors import Actor, Role
from models.credit import (
    Acknowledge,
    AcknowledgeBody,
    JointPunishmentState,
    ObjectionBody,
    RecordObjection,
    RequestRepair,
    Review,
    ReviewBody,
    case_of_credit_entry,
)
from models.credit_repair import (
    AcknowledgeLifting,
    CommitmentBody,
    CreditTiers,
    LiftingBody,
    RecordCommitment,
)

router = APIRouter(prefix="/api/v1", tags=["enforcement"])


def acting_on_credit(entry_id: str, session: SessionDep, actor: WriterDep) -> Actor:
    """A credit entry (`credit_entry_id(case)`) is acted on only by who may see its case; the
    workflow then checks the step against the unit and the entry's state."""
    case_for(session, actor, case_of_credit_entry(entry_id))
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


@router.get("/credit/{entry_id}", response_model=JointPunishmentState)
async def read_credit(
    entry_id: str, temporal: TemporalDep, session: SessionDep, actor: ActorDep
) -> JointPunishmentState:
    case_for(session, actor, case_of_credit_entry(entry_id))
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


@router.get("/credit-tiers", response_model=CreditTiers, summary="失信信息分级与公示期")
async def credit_tiers(policy: EnforcementPolicyDep, actor: ActorDep) -> CreditTiers:
    """The Order 36 tiers, their periods, and the sanction-to-tier table in force."""
    return CreditTiers(tiers=policy.tiers, tier_rules=policy.tier_rules)


@router.post(
    "/credit/{entry_id}/commitment", response_model=JointPunishmentState, summary="登记信用承诺"
)
async def commitment(
    entry_id: str, body: CommitmentBody, actor: CreditActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    """The institution's public credit commitment (Order 36), recorded on its behalf by the
    hotline or its town; a repair may be asked only after it."""
    arg = RecordCommitment(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "record_commitment", arg, JointPunishmentState)


@router.post(
    "/credit/{entry_id}/lifting-acknowledge",
    response_model=JointPunishmentState,
    summary="反馈惩戒措施解除",
)
async def lifting_acknowledge(
    entry_id: str, body: LiftingBody, actor: MemberActingDep, temporal: TemporalDep
) -> JointPunishmentState:
    arg = AcknowledgeLifting(**body.model_dump(), actor=actor)
    return await update(temporal, entry_id, "acknowledge_lifting", arg, JointPunishmentState)
