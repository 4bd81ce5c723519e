"""Credit repair under NDRC Order No. 36: the tier table in force, the institution's credit
commitment, and each department's acknowledgment that it lifted its measures. Objection,
repair request and review are in `routes_enforcement` (the same workflow)."""

from __future__ import annotations

from fastapi import APIRouter

from api.case_actions import update
from api.deps import EnforcementPolicyDep, TemporalDep
from api.identity import ActorDep
from api.routes_enforcement import CreditActingDep, MemberActingDep
from models.credit import JointPunishmentState
from models.credit_repair import (
    AcknowledgeLifting,
    CommitmentBody,
    CreditTiers,
    LiftingBody,
    RecordCommitment,
)

router = APIRouter(prefix="/api/v1", tags=["enforcement"])


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
