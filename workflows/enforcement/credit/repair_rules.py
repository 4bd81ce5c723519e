"""Who may act in a credit repair under Order 36, and when (pure functions for the
validators; the grant is checked again under the workflow's lock)."""

from __future__ import annotations

from datetime import datetime

from models.actors import Actor, Role
from models.case_actions import Refusal
from models.credit import CreditStatus, JointPunishmentState
from models.credit_repair import CreditTier

ON_BEHALF = (Role.OPERATOR, Role.TOWN, Role.ADMIN)  # record what the institution submits


def order_36(state: JointPunishmentState) -> Refusal | None:
    if state.rules == "order-36":
        return None
    return Refusal(
        code="two_tier_entry",
        message="该失信信息按原办法公示，不适用信用承诺程序，按原规则申请修复。",
    )


def commitment(state: JointPunishmentState, actor: Actor) -> Refusal | None:
    if actor.role not in ON_BEHALF:
        return Refusal(
            code="not_allowed",
            message="机构的信用承诺由话务员或属地镇（街道）代为登记。",
            status=403,
        )
    if state.status is not CreditStatus.PUBLISHED:
        return Refusal(code="not_allowed_in_state", message="失信信息不在公示中，无需信用承诺。")
    if state.commitment is not None:
        return Refusal(code="already_committed", message="该机构已作出信用承诺。")
    return order_36(state)


def _period(state: JointPunishmentState, now: datetime) -> Refusal | None:
    if state.tier is CreditTier.MINOR:
        return None  # repairable as soon as the legal duty is fulfilled
    if state.plan and state.plan.repair_from and now < state.plan.repair_from:
        return Refusal(
            code="too_early",
            message="未满最短公示期，暂不受理信用修复申请。",
        )
    return None


def _committed(state: JointPunishmentState) -> Refusal | None:
    if state.commitment is None:
        return Refusal(
            code="no_commitment",
            message="申请信用修复须先由机构公开作出信用承诺。",
            status=422,
        )
    return None


def repair(state: JointPunishmentState, actor: Actor, now: datetime) -> Refusal | None:
    if actor.role not in ON_BEHALF:
        return Refusal(
            code="not_allowed",
            message="信用修复申请由话务员或属地镇（街道）登记。",
            status=403,
        )
    if state.status is not CreditStatus.PUBLISHED or state.repair_request is not None:
        return Refusal(code="not_allowed_in_state", message="当前不能申请信用修复。")
    return _period(state, now) or _committed(state)


def finding_unit(actor: Actor, unit: str | None) -> Refusal | None:
    """谁认定、谁修复: the unit that made the finding decides (an administrator may too)."""
    if actor.role is Role.ADMIN or (actor.unit is not None and actor.unit == unit):
        return None
    return Refusal(
        code="not_finding_unit",
        message="信用修复由作出失信认定的单位决定（谁认定、谁修复）。",
        status=403,
    )


def grant(state: JointPunishmentState, now: datetime) -> Refusal | None:
    """The conditions the state holds, at the moment of the grant."""
    if state.status is not CreditStatus.PUBLISHED or state.repair_request is None:
        return Refusal(code="not_allowed_in_state", message="没有待审核的信用修复申请。")
    return _period(state, now) or _committed(state)


def duties(outstanding: list[str]) -> Refusal | None:
    if not outstanding:
        return None
    return Refusal(
        code="duties_outstanding",
        message="违法行为尚未纠正或法定义务尚未履行完毕，不予修复：" + "；".join(outstanding),
        status=422,
    )


def lifting(state: JointPunishmentState, actor: Actor) -> Refusal | None:
    if actor.unit is not None and actor.unit in state.lifting:
        return None
    return Refusal(
        code="not_pending",
        message="你单位没有待解除的惩戒措施，或已反馈过解除情况。",
        status=403,
    )
