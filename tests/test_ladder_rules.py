"""The deadline ladder's rules (workflows/cases/ladder.py), pure: which rung is due for a state
at a time, each rung and its boundaries (a deadline is missed at its exact instant), and a
round planned on the working-day calendar. The workflow taking the rungs is tested on the
time-skipping server in tests/test_case_ladder.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from infra.deadlines import load_policy, plan
from models.cases import CaseStatus, Level, Priority
from models.deadlines import PlanRound, RoundDeadlines
from models.timeutil import SHANGHAI
from models.workflow_io import CaseState, ReturnRequest
from workflows.cases import ladder
from workflows.cases.ladder import (
    ACCEPTANCE,
    RESOLUTION,
    Escalate,
    NoticeInterview,
    NoticeReminder,
    Remind,
    due,
    next_deadline,
)

START = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)  # a Monday
ACCEPT_BY = START + timedelta(days=1)
FINAL_BY = START + timedelta(days=2)
RESOLVE_BY = START + timedelta(days=10)
TICK = timedelta(microseconds=1)


def case(
    status: CaseStatus = CaseStatus.DISPATCHED,
    level: Level = Level.TOWN,
    *,
    reminded: bool = False,
    deadlines: RoundDeadlines | None = None,
    **fields: object,
) -> CaseState:
    return CaseState.model_validate(
        {
            "case_id": "TY20260302-LADDER",
            "status": status,
            "level": level,
            "handler": "town-lushan" if level is Level.TOWN else "health",
            "town": "town-lushan",
            "lead": ["health", "samr"],
            "reminded": reminded,
            "deadlines": deadlines
            or RoundDeadlines(accept_by=ACCEPT_BY, accept_final_by=FINAL_BY, resolve_by=RESOLVE_BY),
            **fields,
        }
    )


def test_nothing_is_due_before_the_acceptance_deadline() -> None:
    assert due(case(), ACCEPT_BY - TICK) is None


def test_reminder_is_due_exactly_at_the_acceptance_deadline() -> None:
    assert due(case(), ACCEPT_BY) == Remind(unit="town-lushan", accept_by=ACCEPT_BY)


def test_reminded_unit_has_until_the_final_deadline() -> None:
    assert due(case(reminded=True), FINAL_BY - TICK) is None


def test_town_that_misses_the_final_deadline_is_escalated_to_the_first_lead() -> None:
    assert due(case(reminded=True), FINAL_BY) == Escalate(
        overdue=ACCEPTANCE, failing="town-lushan", to="health"
    )


def test_accepted_case_is_not_reminded_but_escalates_when_resolution_is_overdue() -> None:
    accepted = case(CaseStatus.ACCEPTED)
    assert due(accepted, FINAL_BY) is None
    assert due(accepted, RESOLVE_BY - TICK) is None
    assert due(accepted, RESOLVE_BY) == Escalate(
        overdue=RESOLUTION, failing="town-lushan", to="health"
    )


def test_city_that_misses_a_deadline_goes_to_the_leading_office_for_notice_interview() -> None:
    assert due(case(level=Level.CITY, reminded=True), FINAL_BY) == NoticeInterview(
        overdue=ACCEPTANCE, failing="health"
    )
    assert due(case(CaseStatus.ACCEPTED, Level.CITY), RESOLVE_BY) == NoticeInterview(
        overdue=RESOLUTION, failing="health"
    )


def test_after_notice_interview_each_cycle_is_a_reminder() -> None:
    every = RoundDeadlines(resolve_by=RESOLVE_BY)  # the cycle's clock, as the workflow sets it
    office = case(CaseStatus.ACCEPTED, Level.LEADING_OFFICE, deadlines=every)
    assert due(office, RESOLVE_BY - TICK) is None
    assert due(office, RESOLVE_BY) == NoticeReminder(unit="health")
    # Histories from before the cycle: no clock after 通报约谈, nothing ever due.
    assert (
        due(case(CaseStatus.ACCEPTED, Level.LEADING_OFFICE, deadlines=RoundDeadlines()), RESOLVE_BY)
        is None
    )


def test_the_reminder_comes_before_an_escalation_due_at_the_same_time() -> None:
    # A worker back after an outage: every deadline has passed; the oldest rung first.
    late = RESOLVE_BY + timedelta(days=30)
    assert isinstance(due(case(), late), Remind)
    assert due(case(reminded=True), late) == Escalate(
        overdue=ACCEPTANCE, failing="town-lushan", to="health"
    )


def test_a_return_under_review_stops_the_acceptance_clock_but_not_resolution() -> None:
    pending = ReturnRequest(unit="town-lushan", reason="非本辖区", at=START, reviewer="operator")
    reviewing = case(return_pending=pending)
    assert due(reviewing, FINAL_BY) is None
    assert due(reviewing, RESOLVE_BY) == Escalate(
        overdue=RESOLUTION, failing="town-lushan", to="health"
    )
    assert next_deadline(reviewing) == RESOLVE_BY


@pytest.mark.parametrize(
    "status", [CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.MERGED, None]
)
def test_resolved_closed_merged_or_unopened_cases_have_nothing_due(
    status: CaseStatus | None,
) -> None:
    state = case(CaseStatus.DISPATCHED)
    state.status = status
    assert due(state, RESOLVE_BY + timedelta(days=365)) is None
    assert next_deadline(state) is None


def test_next_deadline_is_the_next_rung() -> None:
    assert next_deadline(case()) == ACCEPT_BY
    assert next_deadline(case(reminded=True)) == FINAL_BY
    assert next_deadline(case(CaseStatus.ACCEPTED)) == RESOLVE_BY
    # A resolution deadline earlier than acceptance's (a short escalated round) comes first.
    short = RoundDeadlines(accept_by=RESOLVE_BY, resolve_by=ACCEPT_BY)
    assert next_deadline(case(deadlines=short)) == ACCEPT_BY


def test_round_planned_on_a_friday_is_not_due_over_the_weekend() -> None:
    """The calendar is the planner's: the ladder fires at the instant it planned, no sooner."""
    friday = datetime(2026, 3, 6, 10, tzinfo=SHANGHAI)
    deadlines = plan(load_policy(), PlanRound(start=friday, priority=Priority.ORDINARY))
    # One working day: Monday at the same hour, the weekend not counted.
    assert deadlines.accept_by == datetime(2026, 3, 9, 10, tzinfo=SHANGHAI)
    state = case(deadlines=deadlines)
    sunday_night = datetime(2026, 3, 8, 23, 59, tzinfo=SHANGHAI)
    assert sunday_night < deadlines.accept_by
    assert due(state, sunday_night) is None
    assert due(state, deadlines.accept_by) == Remind(
        unit="town-lushan", accept_by=deadlines.accept_by
    )


def test_passed_is_inclusive_and_none_never_passes() -> None:
    assert ladder.passed(START, START) and not ladder.passed(START, START - TICK)
    assert not ladder.passed(None, START)
