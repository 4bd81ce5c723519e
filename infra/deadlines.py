"""Deadlines from the policy file: clock durations, or working days on the Chinese calendar."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

from infra.workdays import add_working_days
from models.deadlines import DeadlinePolicy, Duration, PlanRound, RoundDeadlines

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
