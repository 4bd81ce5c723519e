"""Statistics per unit and period: on-time acceptance, on-time closure, satisfaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.access import statistics_scope
from api.deps import SessionDep
from api.errors import ApiError
from api.identity import ActorDep
from infra.statistics import compute, targets, timeline
from models.actors import Role
from models.bounds import QueryDate
from models.statistics import Statistics, Target, Timeline
from models.timeutil import SHANGHAI

router = APIRouter(prefix="/api/v1", tags=["statistics"])


@router.get("/statistics", response_model=Statistics)
def statistics(
    session: SessionDep,
    actor: ActorDep,
    start: Annotated[
        QueryDate | None, Query(description="first day (Beijing time); default: 1st of this month")
    ] = None,
    end: Annotated[
        QueryDate | None, Query(description="last day, included; default: today")
    ] = None,
    unit: str | None = None,
) -> Statistics:
    """A town sees its own cases and figures; a department or operator the city's cases and
    its own unit's figures; the leading office, auditors, administrators and Health all."""
    town, unit = statistics_scope(actor, unit)
    today = datetime.now(SHANGHAI).date()
    start = start or today.replace(day=1)
    end = end or today
    if end < start:
        raise ApiError(422, "invalid_period", "统计截止日期不能早于起始日期。")
    return compute(session, start, end, now=datetime.now(UTC), unit=unit, town=town)


@router.get("/statistics/timeline", response_model=Timeline)
def statistics_timeline(
    session: SessionDep,
    actor: ActorDep,
    months: Annotated[int, Query(ge=1, le=36, description="how many months back")] = 12,
) -> Timeline:
    """Cases received per month (Beijing time), by category and by town."""
    today = datetime.now(SHANGHAI).date()
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    town = actor.unit if actor.role is Role.TOWN else None  # a town: its own cases only
    return timeline(session, date(year, month, 1), today, town=town)


@router.get("/statistics/targets", response_model=list[Target])
def statistics_targets(_: ActorDep) -> list[Target]:
    """The plan's 2025 targets, with the latest reported figures."""
    return targets()
