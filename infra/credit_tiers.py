"""Order 36 tiers: the tier a sanction falls in, the period the lead may choose, and the
dates of a joint punishment planned under them (the two-tier plan is in `deadlines`)."""

from __future__ import annotations

from infra.deadlines import add_months, after
from models.credit import CreditPlan, EnforcementPolicy, PlanCredit
from models.credit_repair import TIER_NAMES, CreditTier
from models.credit_steps import CreditStage


class UnknownSanction(ValueError):
    pass


def tier_of(policy: EnforcementPolicy, sanction: str | None, serious: bool) -> CreditTier:
    """The row's tier; without a sanction code, serious or general as the lead said."""
    if sanction is None:
        return CreditTier.SERIOUS if serious else CreditTier.GENERAL
    rule = policy.rule(sanction)
    if rule is None:
        raise UnknownSanction(sanction)
    return rule.tier


def period_refusal(policy: EnforcementPolicy, tier: CreditTier, months: int) -> str | None:
    """A Chinese reason when `months` is outside the tier's period, else None."""
    period = policy.tiers[tier]
    low = 0 if tier is CreditTier.MINOR else period.min_months
    if low <= months <= period.max_months:
        return None
    if not period.published:
        return (
            f"{TIER_NAMES[tier]}失信信息原则上不予公示（填 0）；确需公示的，"
            f"最长 {period.max_months} 个月。"
        )
    return (
        f"{TIER_NAMES[tier]}失信信息的公示期应为 {period.min_months} 至 {period.max_months} 个月。"
    )


def plan(policy: EnforcementPolicy, params: PlanCredit) -> CreditPlan:
    tier = tier_of(policy, params.sanction, params.serious)
    if params.stage is CreditStage.NOTICE:
        return CreditPlan(objection_by=after(params.start, policy.objection_window), tier=tier)
    if params.stage is CreditStage.LIFTING:
        within = policy.lifting_within or policy.acknowledge_within
        lift_by = after(params.start, within)
        return CreditPlan(
            objection_by=params.start,
            tier=tier,
            lift_by=lift_by,
            lift_final_by=after(lift_by, within),
        )
    # The period counts from the finding (the lead's decision to enter the information),
    # not from the end of the objection window.
    found = params.decided_at or params.start
    minimum = policy.tiers[tier].min_months
    acknowledge_by = after(params.start, policy.acknowledge_within)
    return CreditPlan(
        objection_by=params.start,
        tier=tier,
        publicity_until=max(add_months(found, params.publicity_months), params.start),
        repair_from=add_months(found, minimum) if minimum else params.start,
        acknowledge_by=acknowledge_by,
        acknowledge_final_by=after(acknowledge_by, policy.acknowledge_within),
    )
