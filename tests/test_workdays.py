"""Working days around the 2026 Spring Festival and its adjusted Saturdays."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from infra.workdays import add_working_days, is_working_day
from models.timeutil import SHANGHAI


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_spring_festival_2026_holidays_and_adjusted_saturdays() -> None:
    assert not is_working_day(date(2026, 2, 17))  # 春节
    assert is_working_day(date(2026, 2, 14))  # Saturday worked in exchange (调休)
    assert is_working_day(date(2026, 2, 28))
    assert not is_working_day(date(2026, 2, 21))  # an ordinary Saturday inside the holiday


def test_friday_before_the_festival_runs_into_the_adjusted_saturday() -> None:
    assert add_working_days(at(2026, 2, 13, 15, 0), 1) == at(2026, 2, 14, 15, 0)


def test_received_during_the_holiday_counts_from_the_first_working_day() -> None:
    # Received on the first day of the festival: day one is 24 February, so one working day
    # ends when 24 February ends.
    assert add_working_days(at(2026, 2, 16, 11, 30), 1) == at(2026, 2, 25, 0, 0)
    # 24 to 28 February (a Saturday worked in exchange): due when 28 February ends.
    assert add_working_days(at(2026, 2, 16, 11, 30), 5) == at(2026, 3, 1, 0, 0)
    assert add_working_days(at(2026, 2, 16, 11, 30), 0) == at(2026, 2, 24, 0, 0)


def test_ordinary_weekend_and_offsets() -> None:
    friday_evening_utc = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 18:00 in Kaili
    assert add_working_days(friday_evening_utc, 1) == at(2026, 11, 30, 18, 0)
    assert add_working_days(at(2026, 11, 30, 9, 0), 0) == at(2026, 11, 30, 9, 0)


def test_a_year_without_a_schedule_falls_back_to_weekdays_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert is_working_day(date(2099, 1, 5))  # a Monday
        assert not is_working_day(date(2099, 1, 3))  # a Saturday
    assert "2099" in caplog.text


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        add_working_days(datetime(2026, 3, 2, 9, 0), 1)
