"""Every branch of the deadline ladder, on the time-skipping server: days pass in ms."""

from __future__ import annotations

from sqlmodel import select

from infra.deadlines import plan
from models.case_actions import AcceptCase, ReportResult
from models.cases import CaseRound, CaseStatus, Level, Outcome, Priority, UnitRecord
from models.deadlines import PlanRound
from models.notifications import NotificationKind
from tests.case_env import CaseEnv, town


async def test_ordinary_case_goes_to_the_town_with_working_day_deadlines(
    case_env: CaseEnv,
) -> None:
    received, handle = await case_env.open(category="health-management", town="town-lushan")
    state = await case_env.state(handle)
    assert (state.status, state.handler, state.level) == (
        CaseStatus.DISPATCHED,
        "town-lushan",
        Level.TOWN,
    )
    expected = plan(
        case_env.policy, PlanRound(start=state.round_started_at, priority=Priority.ORDINARY)
    )
    assert state.deadlines == expected
    [dispatch] = case_env.publisher.to(state.case_id, NotificationKind.DISPATCH)
    assert dispatch.recipient == "town-lushan" and dispatch.due_at == expected.accept_by

    await handle.execute_update("accept", AcceptCase(actor=town()))
    await case_env.pass_time_until(state.deadlines.accept_final_by)
    state = await case_env.state(handle)
    assert state.status is CaseStatus.ACCEPTED and not state.reminded
    assert case_env.publisher.to(state.case_id, NotificationKind.REMINDER) == []

    await handle.execute_update(
        "report_result",
        ReportResult(
            actor=town(), outcome=Outcome.SUBSTANTIATED, findings="晨午检记录缺失，已责令整改。"
        ),
    )
    state = await case_env.state(handle)
    assert state.status is CaseStatus.RESOLVED and state.result_unit == "town-lushan"
    with case_env.sessions() as session:
        [round_] = session.exec(select(CaseRound).where(CaseRound.case_id == state.case_id)).all()
        assert round_.accepted_at is not None and round_.accepted_at <= round_.accept_by
        assert round_.resolved_at is not None
        assert (
            session.exec(select(UnitRecord).where(UnitRecord.case_id == state.case_id)).all() == []
        )
