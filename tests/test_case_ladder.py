"""Every branch of the deadline ladder, on the time-skipping server: days pass in ms."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from infra.deadlines import after, plan
from models.case_actions import AcceptCase, ReportResult
from models.cases import Case, CaseRound, CaseStatus, Level, Outcome, Priority, UnitRecord
from models.deadlines import PlanRound
from models.institutions import Institution, Registrar
from models.notifications import NotificationKind
from tests.case_env import CaseEnv, department, town
from workflows.cases.workflows import CaseWorkflow


async def test_ordinary_case_goes_to_the_town_with_working_day_deadlines(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="health-management", town="town-lushan")
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

    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    await case_env.pass_time_until(state.deadlines.accept_final_by)
    state = await case_env.state(handle)
    assert state.status is CaseStatus.ACCEPTED and not state.reminded
    assert case_env.publisher.to(state.case_id, NotificationKind.REMINDER) == []

    await handle.execute_update(
        CaseWorkflow.report_result,
        ReportResult(
            actor=town(), outcome=Outcome.SUBSTANTIATED, findings="晨午检记录缺失，已责令整改。"
        ),
    )
    state = await case_env.state(handle)
    assert state.status is CaseStatus.RESOLVED and state.result_unit == "town-lushan"
    with case_env.sessions() as session:
        [round_] = session.exec(select(CaseRound).where(CaseRound.case_id == state.case_id)).all()
        assert round_.accepted_at is not None and round_.accept_by is not None
        assert round_.accepted_at <= round_.accept_by
        assert round_.resolved_at is not None
        assert (
            session.exec(select(UnitRecord).where(UnitRecord.case_id == state.case_id)).all() == []
        )


def records_against(case_env: CaseEnv, case_id: str) -> list[tuple[str, str]]:
    with case_env.sessions() as session:
        rows = session.exec(select(UnitRecord).where(UnitRecord.case_id == case_id)).all()
        return sorted((r.unit, str(r.kind)) for r in rows)


async def test_missed_acceptance_reminds_then_escalates_then_office_notice_interview(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="prepayment", town="town-wanchao")
    state = await case_env.state(handle)
    case_id, first = state.case_id, state.deadlines

    # 1st miss: a reminder (催办) to the town, which gets the acceptance time once more.
    await case_env.pass_time_until(first.accept_by)
    state = await case_env.until(handle, lambda s: s.reminded)
    assert state.level is Level.TOWN and state.handler == "town-wanchao"
    [reminder] = case_env.publisher.to(case_id, NotificationKind.REMINDER)
    assert reminder.recipient == "town-wanchao" and "催办" in reminder.title
    assert reminder.due_at == first.accept_final_by

    # 2nd miss: up to the city lead department, with a record against the town.
    await case_env.pass_time_until(first.accept_final_by)
    state = await case_env.until(handle, lambda s: s.level is Level.CITY)
    assert state.handler == "samr" and state.escalated and state.round == 2
    assert "town-wanchao" in state.collaborators
    assert records_against(case_env, case_id) == [("town-wanchao", "escalated")]
    [escalation] = case_env.publisher.to(case_id, NotificationKind.ESCALATION)
    assert escalation.recipient == "samr" and "逾期未签收" in escalation.text
    grace = plan(
        case_env.policy,
        PlanRound(start=state.round_started_at, priority=Priority.ORDINARY, escalated=True),
    )
    assert state.deadlines.resolve_by == grace.resolve_by  # 5 more working days

    # The city accepts but does not resolve within the grace: the leading group office
    # records a public notice and interview (通报约谈) against it.
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=department("samr")))
    await case_env.pass_time_until(state.deadlines.resolve_by)
    state = await case_env.until(handle, lambda s: s.level is Level.LEADING_OFFICE)
    assert state.handler == "samr" and state.status is CaseStatus.ACCEPTED
    assert records_against(case_env, case_id) == [
        ("samr", "notice-interview"),
        ("town-wanchao", "escalated"),
    ]
    notices = case_env.publisher.to(case_id, NotificationKind.NOTICE_INTERVIEW)
    assert sorted(n.recipient for n in notices) == ["leading-office", "samr"]
    # Last step of the ladder, but not the end of the clock: the office and the unit are
    # reminded (督办提醒) every `notice_reminder_every` until the result is in.
    assert state.deadlines.accept_by is None and state.deadlines.resolve_by is not None
    expected = after(state.history[-1].at, case_env.policy.notice_reminder_every)
    assert abs(state.deadlines.resolve_by - expected) < timedelta(seconds=1)
    await case_env.pass_time_until(state.deadlines.resolve_by)
    state = await case_env.until(handle, lambda s: s.history[-1].action == "case.notice-reminder")
    reminders = case_env.publisher.to(case_id, NotificationKind.SUPERVISION)
    assert sorted(n.recipient for n in reminders) == ["leading-office", "samr"]
    assert all(n.due_at == state.deadlines.resolve_by for n in reminders)
    assert "通报约谈后仍未办结" in reminders[0].text
    await handle.execute_update(
        CaseWorkflow.report_result,
        ReportResult(
            actor=department("samr"),
            outcome=Outcome.UNSUBSTANTIATED,
            findings="经核查未发现预收费超期。",
        ),
    )


async def test_reminded_unit_that_accepts_keeps_the_case(case_env: CaseEnv) -> None:
    _, handle = await case_env.open(category="staffing", town="street-ximen")
    state = await case_env.state(handle)
    await case_env.pass_time_until(state.deadlines.accept_by)
    await case_env.until(handle, lambda s: s.reminded)
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town("street-ximen")))
    await case_env.pass_time_until(state.deadlines.accept_final_by)
    state = await case_env.state(handle)
    assert (state.handler, state.level, state.status) == (
        "street-ximen",
        Level.TOWN,
        CaseStatus.ACCEPTED,
    )
    with case_env.sessions() as session:
        round_ = session.get(CaseRound, (state.case_id, 1))
        assert round_ is not None and round_.accepted_at is not None
        assert round_.accept_by is not None and round_.accepted_at > round_.accept_by  # late


async def test_accepted_but_unresolved_town_case_escalates_when_resolution_overdue(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="food-safety", town="town-kaitang")
    state = await case_env.state(handle)
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town("town-kaitang")))
    await case_env.pass_time_until(state.deadlines.resolve_by)
    state = await case_env.until(handle, lambda s: s.level is Level.CITY)
    assert state.handler == "samr" and state.status is CaseStatus.DISPATCHED
    assert records_against(case_env, state.case_id) == [("town-kaitang", "escalated")]
    [escalation] = case_env.publisher.to(state.case_id, NotificationKind.ESCALATION)
    assert "逾期未办结" in escalation.text
    with case_env.sessions() as session:
        first = session.get(CaseRound, (state.case_id, 1))
        assert first is not None and first.end_reason == "escalated"
        assert first.resolved_at is None


async def test_critical_case_goes_to_three_units_at_once_on_an_hour_clock(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="child-abuse", town="street-dashizi")
    state = await case_env.state(handle)
    assert (state.handler, state.level) == ("health", Level.CITY)
    dispatches = case_env.publisher.to(state.case_id, NotificationKind.DISPATCH)
    assert sorted(n.recipient for n in dispatches) == ["health", "psb", "street-dashizi"]
    assert all("紧急" in n.title for n in dispatches)
    start = state.round_started_at
    assert start is not None
    assert state.deadlines.accept_by == start + timedelta(hours=1)
    assert state.deadlines.resolve_by == start + timedelta(hours=24)

    await case_env.pass_time_until(state.deadlines.accept_by)
    await case_env.until(handle, lambda s: s.reminded)
    # Already at the city: a second miss goes straight to the leading group office.
    await case_env.pass_time_until(state.deadlines.accept_final_by)
    state = await case_env.until(handle, lambda s: s.level is Level.LEADING_OFFICE)
    assert state.handler == "health"
    assert records_against(case_env, state.case_id) == [("health", "notice-interview")]


async def test_registered_institution_is_routed_to_its_registered_town(case_env: CaseEnv) -> None:
    with case_env.sessions() as session:
        session.add(
            Institution(
                id="INST-KT-001",
                name="开怀街道贝贝托育园",
                town="street-kaihuai",
                registrar=Registrar.SAMR,
                registered_at=await case_env.now(),
            )
        )
        session.commit()
    # The caller named the wrong town; the registry knows better.
    _, handle = await case_env.open(
        category="prepayment", town="town-lushan", institution_id="INST-KT-001"
    )
    state = await case_env.state(handle)
    assert (state.handler, state.town) == ("street-kaihuai", "street-kaihuai")
    with case_env.sessions() as session:
        case = session.get(Case, state.case_id)
        assert case is not None and case.institution_name == "开怀街道贝贝托育园"
        assert case.town == "street-kaihuai" and case.institution_key == "id:INST-KT-001"
