"""Statistics per unit and period: on-time acceptance, on-time closure, satisfaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.access import statistics_scope
from api.deps import AuditSessionDep, SessionDep
from api.errors import ApiError
from api.identity import ActorDep, require
from infra import audit
from infra.statistics import compute, targets, timeline
from models.actors import Actor, Role
from models.audit import AuditEntry
from models.bounds import QueryDate
from models.statistics import Statistics, Target, TargetFigure, TargetFigureBody, Timeline
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
    start: Annotated[
        QueryDate | None, Query(description="from this day's month (overrides months)")
    ] = None,
    end: Annotated[
        QueryDate | None, Query(description="to this day's month; default today")
    ] = None,
) -> Timeline:
    """Cases received per month (Beijing time), by category and by town; a town's users see
    their own town only."""
    today = datetime.now(SHANGHAI).date()
    end = end or today
    if start is None:
        year, month = end.year, end.month - (months - 1)
        while month < 1:
            year, month = year - 1, month + 12
        start = date(year, month, 1)
    if end < start:
        raise ApiError(422, "invalid_period", "统计截止日期不能早于起始日期。")
    if (end.year - start.year) * 12 + end.month - start.month >= 36:
        raise ApiError(422, "period_too_long", "按月统计最长36个月。")
    return timeline(session, start, end, own_town(actor))


def own_town(actor: Actor) -> str | None:
    return actor.unit if actor.role is Role.TOWN else None


@router.get("/statistics/targets", response_model=list[Target])
def statistics_targets(session: SessionDep, _: ActorDep) -> list[Target]:
    """The plan's 2025 targets, with the latest reported figures."""
    return targets(session)


@router.put("/statistics/targets/{code}", response_model=list[Target], summary="填报目标数据")
def report_target(
    code: str,
    body: TargetFigureBody,
    session: AuditSessionDep,
    actor: Annotated[Actor, require(Role.LEADING_OFFICE, Role.ADMIN)],
) -> list[Target]:
    """The leading group office fills in the latest figure of a 2025 target; audited."""
    if code not in {t.code for t in targets()}:
        raise ApiError(404, "unknown_target", "没有该项目标。", {"code": code})
    if body.as_of > datetime.now(SHANGHAI).date():
        raise ApiError(422, "future_date", "数据日期不能晚于今天。")
    now = datetime.now(UTC)
    figure = session.get(TargetFigure, code) or TargetFigure(
        code=code,
        reported=body.reported,
        as_of=body.as_of,
        reported_by=actor.label,
        reported_at=now,
    )
    figure.reported, figure.as_of, figure.reported_by, figure.reported_at = (
        body.reported,
        body.as_of,
        actor.label,
        now,
    )
    session.add(figure)
    audit.append(
        session,
        AuditEntry(
            actor=actor.label,
            actor_role=actor.role,
            actor_unit=actor.unit,
            action="target.reported",
            channel="http",
            occurred_at=now,
            reason=f"填报{code}：{body.reported}（{body.as_of.isoformat()}）",
            details={"code": code, "reported": body.reported, "as_of": body.as_of.isoformat()},
        ),
    )
    session.commit()
    return targets(session)
