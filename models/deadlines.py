"""Time limits as configuration: "1h", "30s", "7d" on the clock, "5wd" in working days."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from models.cases import Priority

_DURATION = re.compile(r"^\s*(\d+)\s*(wd|d|h|m|s)\s*$")
_CLOCK = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class Duration(BaseModel):
    """Either clock time or a number of working days (Chinese public-holiday calendar)."""

    clock: timedelta | None = None
    working_days: int | None = None

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if match is None:
            raise ValueError(f"{text!r}: expected a number and s, m, h, d or wd, like '5wd'")
        amount, unit = int(match[1]), match[2]
        if unit == "wd":
            return cls(working_days=amount)
        return cls(clock=timedelta(**{_CLOCK[unit]: amount}))


def _duration(value: object) -> object:
    return Duration.parse(value) if isinstance(value, str) else value


DurationField = Annotated[Duration, BeforeValidator(_duration)]


class PriorityLimits(BaseModel):
    accept: DurationField
    resolve: DurationField


class DeadlinePolicy(BaseModel):
    """Loaded from `infra/data/deadlines.toml` or the file `TUOYU_DEADLINES_FILE` names."""

    priority: dict[Priority, PriorityLimits]
    return_window: DurationField
    escalation_grace: DurationField
    duplicate_window: DurationField
    # 延期申请: at most one extension per case, of at most this many working days.
    extension_cap: DurationField = Duration(working_days=10)
    # After 通报约谈: the leading office and the unit are reminded this often until resolved.
    notice_reminder_every: DurationField = Duration(working_days=2)


class RoundDeadlines(BaseModel):
    """The deadlines of one round; None where the round has none."""

    accept_by: AwareDatetime | None = None
    accept_final_by: AwareDatetime | None = None  # after the reminder
    resolve_by: AwareDatetime | None = None
    return_by: AwareDatetime | None = None


class PlanRound(BaseModel):
    start: AwareDatetime
    priority: Priority
    escalated: bool = Field(
        default=False, description="taken up from the town: resolve within the escalation grace"
    )
