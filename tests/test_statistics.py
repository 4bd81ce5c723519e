"""The supervision figures, counted from hand-made cases and rounds in a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from infra.db import make_engine, session_factory
from infra.migrate import prepare_database
from infra.statistics import compute
from models.cases import Case, CaseRound, CaseStatus, Level, UnitRecord, UnitRecordKind
from models.timeutil import SHANGHAI

NOW = datetime(2026, 3, 31, 12, tzinfo=SHANGHAI)


def day(d: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, d, hour, tzinfo=SHANGHAI)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    prepare_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def add_case(session: Session, case_id: str, **fields: object) -> None:
    values: dict[str, object] = {
        "id": case_id,
        "status": CaseStatus.CLOSED,
        "source_event_id": case_id,
        "received_at": day(2),
        "created_at": day(2),
        "updated_at": day(2),
        "workflow_id": f"case-{case_id}",
        "category": "staffing",
        "priority": "ordinary",
        "channel": "hotline",
        "town": "town-lushan",
        "description": "测试",
    }
    values.update(fields)
    session.add(Case.model_validate(values))
    session.flush()


def add_round(session: Session, case_id: str, n: int, unit: str, **fields: object) -> None:
    session.add(
        CaseRound.model_validate(
            {
                "case_id": case_id,
                "round": n,
                "unit": unit,
                "level": Level.TOWN,
                "dispatched_at": day(2),
                "accept_by": day(3),
                "resolve_by": day(16),
                **fields,
            }
        )
    )


def test_rates_count_due_rounds_only_and_satisfaction_goes_to_the_unit_that_resolved(
    session: Session,
) -> None:
    # A: accepted and resolved in time, complainant satisfied.
    add_case(session, "A", satisfied=True, followed_up_at=day(10), result_unit="town-lushan")
    add_round(session, "A", 1, "town-lushan", accepted_at=day(2, 15), resolved_at=day(9))
    # B: accepted late, escalated, resolved by the city late; dissatisfied.
    add_case(
        session,
        "B",
        category="food-safety",
        town="town-wanchao",
        satisfied=False,
        followed_up_at=day(30),
        result_unit="samr",
    )
    add_round(
        session,
        "B",
        1,
        "town-wanchao",
        accepted_at=day(4),
        ended_at=day(16),
        end_reason="escalated",
    )
    add_round(
        session,
        "B",
        2,
        "samr",
        level=Level.CITY,
        dispatched_at=day(16),
        accept_by=day(17),
        accepted_at=day(17, 8),
        resolve_by=day(23),
        resolved_at=day(27),
    )
    session.add(
        UnitRecord(
            key="B:1",
            unit="town-wanchao",
            case_id="B",
            kind=UnitRecordKind.ESCALATED,
            reason="逾期未办结",
            occurred_at=day(16),
        )
    )
    # C: still waiting, acceptance not yet due; D: returned before its deadline.
    add_case(session, "C", status=CaseStatus.DISPATCHED, received_at=day(31, 8))
    add_round(
        session,
        "C",
        1,
        "town-lushan",
        dispatched_at=day(31, 8),
        accept_by=day(31, 18),
        resolve_by=datetime(2026, 4, 14, 8, tzinfo=SHANGHAI),
    )
    add_case(session, "D", status=CaseStatus.DISPATCHED)
    add_round(session, "D", 1, "town-lushan", ended_at=day(2, 11), end_reason="returned")
    # E: merged into A; outside the period: F.
    add_case(session, "E", status=CaseStatus.MERGED, merged_into="A")
    add_case(session, "F", received_at=datetime(2026, 2, 27, 9, tzinfo=SHANGHAI))
    session.commit()

    stats = compute(session, date(2026, 3, 1), date(2026, 3, 31), now=NOW)
    units = {u.unit: u for u in stats.units}
    lushan, wanchao, samr = units["town-lushan"], units["town-wanchao"], units["samr"]

    assert (lushan.rounds, lushan.on_time_acceptance.total, lushan.on_time_acceptance.hits) == (
        3,
        1,
        1,
    )
    assert lushan.on_time_closure.value == 1.0 and lushan.satisfaction.value == 1.0
    assert wanchao.on_time_acceptance.value == 0.0 and wanchao.escalations == 1
    assert (wanchao.on_time_closure.hits, wanchao.on_time_closure.total) == (0, 1)
    assert samr.on_time_acceptance.value == 1.0 and samr.on_time_closure.value == 0.0
    assert samr.satisfaction.value == 0.0
    assert stats.cases == 4  # A, B, C, D; the merged complaint and February's are not
    assert stats.by_category == {"staffing": 3, "food-safety": 1}
    assert stats.by_town == {"town-lushan": 3, "town-wanchao": 1}
    assert stats.by_status["merged"] == 1
    assert compute(session, date(2026, 3, 1), date(2026, 3, 31), now=NOW, unit="samr").units == [
        samr
    ]


def test_the_follow_up_scale_counts_basically_satisfied_as_satisfied_and_solved_apart(
    session: Session,
) -> None:
    unit = {"followed_up_at": day(10), "result_unit": "town-lushan"}
    add_case(
        session, "A", satisfied=True, follow_up_rating="satisfied", problem_solved=True, **unit
    )
    add_case(
        session,
        "B",
        satisfied=True,
        follow_up_rating="basically-satisfied",
        problem_solved=False,
        **unit,
    )
    add_case(
        session,
        "C",
        satisfied=False,
        follow_up_rating="dissatisfied",
        problem_solved=False,
        **unit,
    )
    add_case(session, "D", satisfied=True, **unit)  # recorded before the scale
    for case_id, seq in (("A", 1), ("B", 2)):
        session.add(
            UnitRecord(
                key=f"{case_id}:{seq}",
                unit="town-lushan",
                case_id=case_id,
                kind=UnitRecordKind.SUPERVISED if seq == 1 else UnitRecordKind.SUPERVISION_OVERDUE,
                reason="督办",
                occurred_at=day(5),
            )
        )
    session.commit()

    lushan = compute(session, date(2026, 3, 1), date(2026, 3, 31), now=NOW).units[0]
    assert (lushan.satisfaction.hits, lushan.satisfaction.total) == (3, 4)
    assert lushan.follow_up_ratings == {
        "satisfied": 1,
        "basically-satisfied": 1,
        "dissatisfied": 1,
        "unrated": 1,
    }
    assert (lushan.problem_solved.hits, lushan.problem_solved.total) == (1, 3)
    assert (lushan.supervised, lushan.supervision_overdue, lushan.notice_interviews) == (1, 1, 0)
