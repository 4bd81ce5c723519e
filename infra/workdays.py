"""Working days in mainland China: weekends, public holidays and adjusted working days (调休).

The calendar comes from `chinese_calendar`, which ships each year's State Council schedule.
For a year it does not know yet, Monday to Friday count as working days and a warning is
logged: update the package when the State Council publishes the next year's schedule.

Deadlines keep the local (Asia/Shanghai) time of day: "1 working day" from Friday 15:00 is
the next working day at 15:00. Something received on a non-working day counts from the start
of the next working day and is due at the end (midnight) of the last working day counted.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache

import chinese_calendar

from models.timeutil import SHANGHAI

log = logging.getLogger(__name__)


@cache
def _unknown_year(year: int) -> None:
    log.warning("no holiday schedule for %d in chinese_calendar: counting Monday-Friday", year)


# A case's opening counts about twenty days for its deadlines; chinese_calendar looks each up
# afresh (4.5 % of the opening's time in `bench/opening.py` before this cache).
@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _unknown_year(day.year)
        return day.weekday() < 5


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start` (an aware datetime), in Asia/Shanghai."""
    if start.tzinfo is None:
        raise ValueError("start must carry its UTC offset")
    local = start.astimezone(SHANGHAI)
    day = local.date()
    if is_working_day(day):
        for _ in range(days):
            day = next_working_day(day)
        return datetime.combine(day, local.timetz())
    # Received on a non-working day: the time runs from the start of the next working day
    # and the deadline is the end of the last working day counted.
    day = next_working_day(day)
    if days == 0:
        return datetime.combine(day, time(0, tzinfo=SHANGHAI))
    for _ in range(days - 1):
        day = next_working_day(day)
    return datetime.combine(day + timedelta(days=1), time(0, tzinfo=SHANGHAI))
