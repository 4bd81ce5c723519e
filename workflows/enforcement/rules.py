"""Who may act in enforcement, and when (pure functions for the validators)."""

from __future__ import annotations

from datetime import datetime

from models.actors import Actor, Role
from models.case_actions import Refusal
from models.credit import CreditStatus, JointPunishmentState
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


def reinspection(state: EnforcementState, decision_id: str) -> Refusal | None:
    if decision_id in state.open_rectifications:
        return None
    return Refusal(code="no_open_rectification", message="该决定没有待复查的整改事项。")


def joint_punishment(state: EnforcementState) -> Refusal | None:
    if state.joint_punishment is None:
        return None
    return Refusal(code="already_started", message="本案已启动联合惩戒程序。")


def objection(state: JointPunishmentState, actor: Actor, now: datetime) -> Refusal | None:
    if actor.role not in (Role.OPERATOR, Role.TOWN, Role.ADMIN):
        return Refusal(
            code="not_allowed",
            message="机构异议由话务员或属地镇（街道）登记。",
            status=403,
        )
    if state.status is not CreditStatus.NOTICED or state.objection is not None:
        return Refusal(code="not_allowed_in_state", message="当前不在异议期内。")
    if state.plan is not None and now > state.plan.objection_by:
        return Refusal(code="objection_window_passed", message="已超过异议期限。")
    return None


def objection_review(state: JointPunishmentState) -> Refusal | None:
    if state.status is CreditStatus.OBJECTED:
        return None
    return Refusal(code="not_allowed_in_state", message="没有待复核的异议。")


def acknowledgment(state: JointPunishmentState, actor: Actor) -> Refusal | None:
    if state.status is not CreditStatus.PUBLISHED:
        return Refusal(code="not_allowed_in_state", message="联合惩戒尚未实施或已结束。")
    if actor.unit not in state.pending:
        return Refusal(
            code="not_pending",
            message="你单位无需反馈，或已反馈过本次联合惩戒措施。",
            status=403,
        )
    return None


def repair(state: JointPunishmentState, actor: Actor, now: datetime) -> Refusal | None:
    if actor.role not in (Role.OPERATOR, Role.TOWN, Role.ADMIN):
        return Refusal(
            code="not_allowed",
            message="信用修复申请由话务员或属地镇（街道）登记。",
            status=403,
        )
    if state.status is not CreditStatus.PUBLISHED or state.repair_request is not None:
        return Refusal(code="not_allowed_in_state", message="当前不能申请信用修复。")
    if state.plan and state.plan.repair_from and now < state.plan.repair_from:
        return Refusal(code="too_early", message="未满最短公示期，暂不受理信用修复申请。")
    return None


def repair_review(state: JointPunishmentState) -> Refusal | None:
    if state.repair_request is not None and state.status is CreditStatus.PUBLISHED:
        return None
    return Refusal(code="not_allowed_in_state", message="没有待审核的信用修复申请。")
