"""Who may decide on a case, and when (pure functions for the validators of
`EnforcementWorkflow`; `lead` also for the joint punishment's lead-only steps)."""

from __future__ import annotations

from models.actors import Actor, Role
from models.case_actions import Refusal
from models.enforcement import DecisionBody, EnforcementState, SanctionKind


def lead(actor: Actor, leads: list[str]) -> Refusal | None:
    if actor.role in (Role.LEADING_OFFICE, Role.ADMIN) or (
        actor.role is Role.DEPARTMENT and actor.unit in leads
    ):
        return None
    return Refusal(
        code="not_lead",
        message="只有本案的市级牵头部门或领导小组办公室可以作出该决定。",
        status=403,
    )


def decision(body: DecisionBody) -> Refusal | None:
    if body.kind is SanctionKind.RECTIFICATION and not body.rectify_within_days:
        return Refusal(
            code="missing_deadline",
            message="责令整改须写明整改期限（工作日）。",
            status=422,
        )
    if body.kind is SanctionKind.FINE and not body.fine_yuan:
        return Refusal(
            code="missing_amount",
            message="罚款决定须写明罚款金额。",
            status=422,
        )
    return None


def reinspector(actor: Actor, leads: list[str], town: str) -> Refusal | None:
    """A lead department or the case's town re-inspects (or who may decide anywhere)."""
    if actor.unit in [*leads, town] or lead(actor, []) is None:
        return None
    return Refusal(
        code="not_involved",
        message="只有牵头部门或属地镇（街道）可以复查。",
        status=403,
    )


def reinspection(state: EnforcementState, decision_id: str) -> Refusal | None:
    if decision_id in state.open_rectifications:
        return None
    return Refusal(code="no_open_rectification", message="该决定没有待复查的整改事项。")


def joint_punishment(state: EnforcementState) -> Refusal | None:
    if state.joint_punishment is None:
        return None
    return Refusal(code="already_started", message="本案已启动联合惩戒程序。")
