"""Enforcement of a substantiated case: its state, the lead's decisions, re-inspections, and
the start of a joint punishment (its steps: `routes_credit`). Bans and staff checks are in
`routes_bans`, the integrity files and audit queries in `routes_integrity`."""

from __future__ import annotations

from fastapi import APIRouter

from api.access import case_for
from api.case_actions import query, update
from api.deps import EnforcementPolicyDep, SessionDep, TemporalDep
from api.errors import ApiError
from api.identity import ActingDep, ActorDep
from infra.credit_tiers import UnknownSanction, period_refusal, tier_of
from models.enforcement import (
    Decide,
    DecisionBody,
    EnforcementState,
    JointPunishmentBody,
    Reinspect,
    ReinspectionBody,
    StartJointPunishment,
    enforcement_workflow_id,
)

router = APIRouter(prefix="/api/v1", tags=["enforcement"])


@router.get("/cases/{case_id}/enforcement", response_model=EnforcementState)
async def read_enforcement(
    case_id: str, temporal: TemporalDep, session: SessionDep, actor: ActorDep
) -> EnforcementState:
    case_for(session, actor, case_id)
    state = await query(temporal, enforcement_workflow_id(case_id), EnforcementState)
    if state is None:
        raise ApiError(404, "no_enforcement", "该案件没有处理程序（仅查实的案件有）。")
    return state


@router.post("/cases/{case_id}/decisions", response_model=EnforcementState, summary="处理决定")
async def decide(
    case_id: str, body: DecisionBody, actor: ActingDep, temporal: TemporalDep
) -> EnforcementState:
    decision = Decide(**body.model_dump(), actor=actor)
    return await update(
        temporal, enforcement_workflow_id(case_id), "decide", decision, EnforcementState
    )


@router.post("/cases/{case_id}/reinspections", response_model=EnforcementState, summary="整改复查")
async def reinspect(
    case_id: str, body: ReinspectionBody, actor: ActingDep, temporal: TemporalDep
) -> EnforcementState:
    arg = Reinspect(**body.model_dump(), actor=actor)
    return await update(
        temporal, enforcement_workflow_id(case_id), "reinspect", arg, EnforcementState
    )


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
        temporal, enforcement_workflow_id(case_id), "joint_punishment", arg, EnforcementState
    )
