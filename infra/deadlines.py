"""Policy files (deadlines, enforcement) and their time arithmetic: clock durations, working
days on the Chinese calendar, calendar months."""

from __future__ import annotations

import calendar
import tomllib
from datetime import datetime
from pathlib import Path

from infra.workdays import add_working_days
from models.credit import CreditPlan, EnforcementPolicy, PlanCredit
from models.credit_steps import CreditStage
from models.deadlines import DeadlinePolicy, Duration, PlanRound, RoundDeadlines
from models.timeutil import SHANGHAI

DEFAULT_POLICY = Path(__file__).parent / "data" / "deadlines.toml"


def load_policy(path: Path | None = None) -> DeadlinePolicy:
    raw = tomllib.loads((path or DEFAULT_POLICY).read_text("utf-8"))
    return DeadlinePolicy.model_validate(raw)


def after(start: datetime, duration: Duration) -> datetime:
    if duration.working_days is not None:
        return add_working_days(start, duration.working_days)
    assert duration.clock is not None
    return start + duration.clock


def plan(policy: DeadlinePolicy, params: PlanRound) -> RoundDeadlines:
    """A round's deadlines, counted from its start. After the reminder the unit gets the
    acceptance time once more; an escalated case must be resolved within the grace."""
    limits = policy.priority[params.priority]
    accept_by = after(params.start, limits.accept)
    resolve = policy.escalation_grace if params.escalated else limits.resolve
    return RoundDeadlines(
        accept_by=accept_by,
        accept_final_by=after(accept_by, limits.accept),
        resolve_by=after(params.start, resolve),
        return_by=after(params.start, policy.return_window),
    )


DEFAULT_ENFORCEMENT = Path(__file__).parent / "data" / "enforcement.toml"


def load_enforcement(path: Path | None = None) -> EnforcementPolicy:
    raw = tomllib.loads((path or DEFAULT_ENFORCEMENT).read_text("utf-8"))
    return EnforcementPolicy.model_validate(raw)


def add_months(start: datetime, months: int) -> datetime:
    """Calendar months in local time; the 31st becomes the month's last day when needed."""
    local = start.astimezone(SHANGHAI)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def plan_credit(policy: EnforcementPolicy, params: PlanCredit) -> CreditPlan:
    if params.order36:
        from infra import credit_tiers

        return credit_tiers.plan(policy, params)
    if params.stage is CreditStage.NOTICE:
        return CreditPlan(objection_by=after(params.start, policy.objection_window))
    acknowledge_by = after(params.start, policy.acknowledge_within)
    limits = policy.serious if params.serious else policy.ordinary
    return CreditPlan(
        objection_by=params.start,
        publicity_until=add_months(params.start, params.publicity_months),
        repair_from=add_months(params.start, limits.min_months),
        acknowledge_by=acknowledge_by,
        acknowledge_final_by=after(acknowledge_by, policy.acknowledge_within),
    )
