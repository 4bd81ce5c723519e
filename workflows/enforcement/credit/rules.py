"""Who may act in a joint punishment under the two-tier rules, and when (pure functions for
the validators of `JointPunishmentWorkflow`; Order 36's are in `repair_rules`)."""

from __future__ import annotations

from datetime import datetime

from models.actors import Actor, Role
from models.case_actions import Refusal
from models.credit import CreditStatus, JointPunishmentState


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
