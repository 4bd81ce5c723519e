"""Counting the figures of `models.statistics` from cases, rounds and unit records.

A round counts towards a rate once it is due: acceptance when the unit accepted, or its
acceptance deadline passed while it still held the case; closure likewise. A round taken away
before its deadline (returned, handed down, taken over) does not count against the unit.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from infra import reference
from models.cases import Case, CaseRound, CaseStatus, UnitRecord, UnitRecordKind
from models.statistics import Rate, Statistics, Target, TargetFigure, Timeline, UnitStatistics
from models.timeutil import SHANGHAI, as_utc


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local (Asia/Shanghai) days from `start` to `end`, both included."""
    return (
        datetime.combine(start, time(0, tzinfo=SHANGHAI)),
        datetime.combine(end + timedelta(days=1), time(0, tzinfo=SHANGHAI)),
    )


def _count(rate: Rate, done: datetime | None, due: datetime | None, held_until: datetime) -> None:
    if due is None:
        return
    if done is not None:
        rate.total += 1
        rate.hits += done <= due
    elif due <= held_until:
        rate.total += 1


def compute(
    session: Session,
    start: date,
    end: date,
    *,
    now: datetime,
    unit: str | None = None,
    town: str | None = None,
) -> Statistics:
    """`unit`: only that unit's figures; `town`: only cases in that town (a town's view)."""
    low, high = period_bounds(start, end)
    query = select(Case).where(Case.received_at >= low).where(Case.received_at < high)
    if town is not None:
        query = query.where(Case.town == town)
    cases = session.exec(query).all()
    per_unit: dict[str, UnitStatistics] = {}

    def stats_for(code: str) -> UnitStatistics:
        if code not in per_unit:
            known = reference.units().get(code)
            per_unit[code] = UnitStatistics(unit=code, name=known.name if known else code)
        return per_unit[code]

    rounds = session.exec(
        select(CaseRound)
        .where(CaseRound.dispatched_at >= low)
        .where(CaseRound.dispatched_at < high)
    ).all()
    for r in rounds:
        stats = stats_for(r.unit)
        stats.rounds += 1
        held_until = min(now, r.ended_at) if r.ended_at else now
        _count(stats.on_time_acceptance, r.accepted_at, r.accept_by, held_until)
        _count(stats.on_time_closure, r.resolved_at, r.resolve_by, held_until)

    followed = session.exec(
        select(Case)
        .where(col(Case.followed_up_at).is_not(None))
        .where(col(Case.followed_up_at) >= low)
        .where(col(Case.followed_up_at) < high)
    ).all()
    for case in followed:
        if case.result_unit and case.satisfied is not None:
            stats = stats_for(case.result_unit)
            stats.satisfaction.total += 1
            stats.satisfaction.hits += case.satisfied
            rating = str(case.follow_up_rating) if case.follow_up_rating else "unrated"
            stats.follow_up_ratings[rating] = stats.follow_up_ratings.get(rating, 0) + 1
            if case.problem_solved is not None:
                stats.problem_solved.total += 1
                stats.problem_solved.hits += case.problem_solved

    records = session.exec(
        select(UnitRecord).where(UnitRecord.occurred_at >= low).where(UnitRecord.occurred_at < high)
    ).all()
    for record in records:
        stats = stats_for(record.unit)
        if record.kind == UnitRecordKind.ESCALATED:
            stats.escalations += 1
        elif record.kind == UnitRecordKind.SUPERVISED:
            stats.supervised += 1
        elif record.kind == UnitRecordKind.SUPERVISION_OVERDUE:
            stats.supervision_overdue += 1
        else:
            stats.notice_interviews += 1

    counted = [c for c in cases if c.status != CaseStatus.MERGED]
    units = sorted(per_unit.values(), key=lambda u: u.unit)
    if unit is not None:
        units = [u for u in units if u.unit == unit]
    return Statistics(
        start=start,
        end=end,
        cases=len(counted),
        by_category=dict(Counter(str(c.category) for c in counted).most_common()),
        by_town=dict(Counter(c.town for c in counted).most_common()),
        by_status=dict(Counter(str(c.status) for c in cases).most_common()),
        units=units,
        direct_answers=sum(1 for c in counted if c.knowledge_id is not None),
    )


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def timeline(session: Session, start: date, end: date, town: str | None = None) -> Timeline:
    low, high = period_bounds(start, end)
    months = months_between(start, end)
    index = {m: i for i, m in enumerate(months)}
    by_category: dict[str, list[int]] = {}
    by_town: dict[str, list[int]] = {}
    query = (
        select(Case.received_at, Case.category, Case.town)
        .where(Case.received_at >= low)
        .where(Case.received_at < high)
        .where(Case.status != CaseStatus.MERGED)
    )
    if town is not None:
        query = query.where(Case.town == town)
    rows = session.exec(query).all()
    for received_at, category, case_town in rows:
        slot = index.get(as_utc(received_at).astimezone(SHANGHAI).strftime("%Y-%m"))
        if slot is None:
            continue
        by_category.setdefault(str(category), [0] * len(months))[slot] += 1
        by_town.setdefault(case_town, [0] * len(months))[slot] += 1
    return Timeline(months=months, by_category=by_category, by_town=by_town)


def targets(session: Session | None = None) -> list[Target]:
    """The targets of the plan, with the figures the leading office stored over the file's."""
    raw = tomllib.loads((reference.DATA_DIR / "targets.toml").read_text("utf-8"))["targets"]
    found = [Target.model_validate({"code": code, **info}) for code, info in raw.items()]
    if session is None:
        return found
    stored = {f.code: f for f in session.exec(select(TargetFigure)).all()}
    for target in found:
        if target.code in stored:
            target.reported = stored[target.code].reported
            target.as_of = stored[target.code].as_of
    return found
