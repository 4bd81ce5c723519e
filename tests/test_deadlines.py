"""Deadline planning on the Chinese calendar: the 2026 Spring Festival and its adjusted
working Saturdays (14 and 28 February), and the policy file's durations."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from infra.deadlines import load_policy, plan
from models.cases import Priority
from models.deadlines import Duration, PlanRound
from models.timeutil import SHANGHAI


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def test_friday_before_the_festival_is_due_on_the_adjusted_saturday_then_after_the_break() -> None:
    deadlines = plan(load_policy(), PlanRound(start=at(2, 13), priority=Priority.HIGH))
    assert deadlines.accept_by == at(2, 14)  # Saturday 14 Feb is a working day
    assert deadlines.accept_final_by == at(2, 24)  # 15-23 Feb: Spring Festival holiday
    assert deadlines.return_by == at(2, 24)
    assert deadlines.resolve_by == at(2, 27)  # 14, 24, 25, 26, 27


def test_received_during_the_holiday_counts_from_the_first_working_day() -> None:
    deadlines = plan(load_policy(), PlanRound(start=at(2, 18, 22), priority=Priority.ORDINARY))
    # Due at the end of 24 Feb (the first working day after the break).
    assert deadlines.accept_by == datetime(2026, 2, 25, 0, tzinfo=SHANGHAI)


def test_escalated_round_resolves_within_the_grace_across_the_adjusted_saturday() -> None:
    deadlines = plan(
        load_policy(), PlanRound(start=at(2, 26), priority=Priority.ORDINARY, escalated=True)
    )
    assert deadlines.resolve_by == at(3, 4)  # 27 Feb, Saturday 28 Feb, 2, 3, 4 Mar


def test_critical_deadlines_run_on_the_clock_through_holidays() -> None:
    start = at(2, 17, 3)  # the first day of the new year, 03:00
    deadlines = plan(load_policy(), PlanRound(start=start, priority=Priority.CRITICAL))
    assert deadlines.accept_by == start + timedelta(hours=1)
    assert deadlines.accept_final_by == start + timedelta(hours=2)
    assert deadlines.resolve_by == start + timedelta(hours=24)


def test_durations_parse_clock_and_working_days_and_reject_the_rest(tmp_path: Path) -> None:
    assert Duration.parse("5wd") == Duration(working_days=5)
    assert Duration.parse("90s") == Duration(clock=timedelta(seconds=90))
    assert Duration.parse(" 7d ") == Duration(clock=timedelta(days=7))
    with pytest.raises(ValueError, match="like '5wd'"):
        Duration.parse("five days")
    broken = tmp_path / "deadlines.toml"
    broken.write_text('return_window = "2 weeks"\n', "utf-8")
    with pytest.raises(ValueError):
        load_policy(broken)
