"""The 12345 work-order features on the time-skipping server: return review, extensions,
supervision orders, redo by the same unit, direct answers, reports about done cases."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from infra.deadlines import after
from infra.statistics import compute
from models.actors import Actor, Role
from models.case_actions import (
    AcceptCase,
    DecideExtension,
    RecordFollowUp,
    RedoBy,
    ReportResult,
    RequestExtension,
    ReturnCase,
    ReviewReturn,
    Supervise,
)
from models.cases import Case, CaseRound, CaseStatus, Level, Outcome, UnitRecord
from models.complaints import DirectAnswer
from models.deadlines import Duration
from models.notifications import NotificationKind
from models.timeutil import SHANGHAI
from tests.case_env import LEADING_OFFICE, OPERATOR, CaseEnv, department, town
from tests.factories import complaint
from tests.test_case_actions import RESULT, refused
from workflows.cases import workorder
from workflows.cases.workflows import CaseWorkflow


async def test_a_return_waits_for_review_and_bouncing_never_resets_the_clock(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="out-of-scope", town="town-lushan")
    first = await case_env.state(handle)
    state = await handle.execute_update(
        CaseWorkflow.return_case, ReturnCase(actor=town(), reason="机构不在本镇辖区")
    )
    # Nothing moved yet: the case waits for the hotline centre, the unit cannot accept it.
    assert state.handler == "town-lushan" and state.return_pending is not None
    [review] = case_env.publisher.to(state.case_id, NotificationKind.RETURN_REVIEW)
    assert review.recipient == "hotline" and "机构不在本镇辖区" in review.text
    code, _, _ = await refused(handle, "accept", AcceptCase(actor=town()))
    assert code == "return_pending"
    code, status, message = await refused(
        handle, "review_return", ReviewReturn(actor=town(), approve=True, reason="同意改派")
    )
    assert (code, status) == ("not_reviewer", 403) and "热线中心" in message
    assert workorder.allowed_actions(state, OPERATOR, await case_env.now()) == [
        "review-return",
        "notes",
    ]

    # Rejected: back to the same unit, told why.
    state = await handle.execute_update(
        CaseWorkflow.review_return,
        ReviewReturn(actor=OPERATOR, approve=False, reason="经核实该机构在炉山镇辖区"),
    )
    assert state.handler == "town-lushan" and state.return_pending is None and state.round == 1
    rejected = case_env.publisher.to(state.case_id, NotificationKind.RETURN_REVIEW)[-1]
    assert rejected.recipient == "town-lushan" and "退单申请未通过" in rejected.text

    # Returned twice: decided by the leading office (审定), not the hotline.
    await handle.execute_update(
        CaseWorkflow.return_case, ReturnCase(actor=town(), reason="仍认为不属本镇", to_unit=None)
    )
    code, status, message = await refused(
        handle, "review_return", ReviewReturn(actor=OPERATOR, approve=True, reason="同意")
    )
    assert (code, status) == ("not_reviewer", 403) and "领导小组办公室" in message
    later = await case_env.now() + timedelta(hours=3)
    await case_env.pass_time_until(later)
    state = await handle.execute_update(
        CaseWorkflow.review_return,
        ReviewReturn(
            actor=LEADING_OFFICE, approve=True, reason="改派湾水镇", to_unit="town-wanshui"
        ),
    )
    assert (state.handler, state.level, state.round) == ("town-wanshui", Level.TOWN, 2)
    # The clock runs from the first dispatch: the new unit must finish by the same date.
    assert state.deadlines.resolve_by == first.deadlines.resolve_by
    assert state.returned_by == ["town-lushan"]


async def test_one_extension_approved_by_the_lead_moves_the_public_date(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="prepayment", town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    before = (await case_env.state(handle)).deadlines.resolve_by
    assert before is not None
    code, status, _ = await refused(
        handle,
        "request_extension",
        RequestExtension(actor=town(), working_days=11, reason="需要补充调查", cap_working_days=10),
    )
    assert (code, status) == ("extension_too_long", 422)
    state = await handle.execute_update(
        CaseWorkflow.request_extension,
        RequestExtension(actor=town(), working_days=3, reason="需调取机构收费台账"),
    )
    assert state.extension_pending is not None
    [asked] = case_env.publisher.to(state.case_id, NotificationKind.EXTENSION)
    assert asked.recipient == "samr" and "3 个工作日" in asked.text
    code, status, _ = await refused(
        handle, "decide_extension", DecideExtension(actor=town(), approve=True, reason="同意")
    )
    assert (code, status) == ("not_lead", 403)
    state = await handle.execute_update(
        CaseWorkflow.decide_extension,
        DecideExtension(actor=department("samr"), approve=True, reason="同意延期"),
    )
    assert state.deadlines.resolve_by == after(before, Duration(working_days=3))
    code, _, _ = await refused(
        handle,
        "request_extension",
        RequestExtension(actor=town(), working_days=1, reason="再延一天"),
    )
    assert code == "extension_used"
    with case_env.sessions() as session:
        case = session.get(Case, state.case_id)
        assert case is not None and case.extended
        assert case.resolve_by == state.deadlines.resolve_by


async def test_a_supervision_order_is_recorded_notified_and_counted(case_env: CaseEnv) -> None:
    _, handle = await case_env.open(category="food-safety", town="town-lushan")
    now = await case_env.now()
    due = now + timedelta(days=3)
    day = now.astimezone(SHANGHAI).date()

    def supervised() -> int:
        with case_env.sessions() as session:
            stats = compute(session, day, day, now=now, unit="town-lushan")
            return stats.units[0].supervised if stats.units else 0

    before = supervised()
    code, status, _ = await refused(
        handle, "supervise", Supervise(actor=department("samr"), comments="抓紧办理", due_by=due)
    )
    assert (code, status) == ("not_office", 403)
    state = await handle.execute_update(
        CaseWorkflow.supervise,
        Supervise(actor=LEADING_OFFICE, comments="群众反映强烈，请三日内办结", due_by=due),
    )
    assert [o.unit for o in state.supervisions] == ["town-lushan"]
    [order] = case_env.publisher.to(state.case_id, NotificationKind.SUPERVISION)
    assert order.recipient == "town-lushan" and order.due_at == due
    assert "督办" in order.title and "群众反映强烈" in order.text
    with case_env.sessions() as session:
        case = session.get(Case, state.case_id)
        assert case is not None and case.supervisions == 1 and case.supervised_until == due
        records = session.exec(select(UnitRecord).where(UnitRecord.case_id == state.case_id)).all()
        assert [(r.unit, r.kind) for r in records] == [("town-lushan", "supervised")]
    assert supervised() == before + 1


async def test_a_supervision_order_past_its_deadline_is_flagged_told_and_counted(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="food-safety", town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    now = await case_env.now()
    due = now + timedelta(days=1)
    await handle.execute_update(
        CaseWorkflow.supervise,
        Supervise(actor=LEADING_OFFICE, comments="请一日内反馈核查情况", due_by=due),
    )
    with case_env.holding_the_clock():
        await case_env.pass_time_until(due)
        state = await case_env.until(handle, lambda s: s.supervisions[0].overdue_at is not None)
    assert state.status is CaseStatus.ACCEPTED  # flagged, not escalated: the case goes on
    assert state.history[-1].action == "case.supervision-overdue"
    told = [
        n
        for n in case_env.publisher.to(state.case_id, NotificationKind.SUPERVISION)
        if "督办期限已到" in n.text
    ]
    assert sorted(n.recipient for n in told) == ["leading-office", "town-lushan"]
    with case_env.sessions() as session:
        records = session.exec(select(UnitRecord).where(UnitRecord.case_id == state.case_id)).all()
        kinds = sorted(str(r.kind) for r in records)
        assert kinds == ["supervised", "supervision-overdue"]
        day = due.astimezone(SHANGHAI).date()
        stats = compute(session, day - timedelta(days=1), day, now=due, unit="town-lushan")
        assert stats.units[0].supervision_overdue >= 1

    # A second order answered by the unit's result in time is never flagged.
    later = await case_env.now() + timedelta(days=1)
    await handle.execute_update(
        CaseWorkflow.supervise,
        Supervise(actor=LEADING_OFFICE, comments="再次督办", due_by=later),
    )
    await handle.execute_update(CaseWorkflow.report_result, ReportResult(actor=town(), **RESULT))
    with case_env.holding_the_clock():
        await case_env.pass_time_until(later)
        state = await case_env.state(handle)
    assert state.supervisions[1].answered_at is not None
    assert state.supervisions[1].overdue_at is None
    assert [h.action for h in state.history].count("case.supervision-overdue") == 1


async def test_dissatisfied_because_of_the_unit_goes_back_to_the_same_unit_once(
    case_env: CaseEnv,
) -> None:
    _, handle = await case_env.open(category="prepayment", town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    await handle.execute_update(CaseWorkflow.report_result, ReportResult(actor=town(), **RESULT))
    state = await handle.execute_update(
        CaseWorkflow.follow_up,
        RecordFollowUp(
            actor=OPERATOR, satisfied=False, comment="镇里没有上门核实", redo_by=RedoBy.SAME_UNIT
        ),
    )
    assert (state.status, state.handler, state.level, state.redone) == (
        CaseStatus.DISPATCHED,
        "town-lushan",
        Level.TOWN,
        1,
    )
    redo = case_env.publisher.to(state.case_id, NotificationKind.DISPATCH)[-1]
    assert redo.recipient == "town-lushan" and "重办" in redo.text
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    await handle.execute_update(CaseWorkflow.report_result, ReportResult(actor=town(), **RESULT))
    code, _, _ = await refused(
        handle,
        "follow_up",
        RecordFollowUp(actor=OPERATOR, satisfied=False, redo_by=RedoBy.SAME_UNIT),
    )
    assert code == "redo_used"
    state = await handle.execute_update(
        CaseWorkflow.follow_up, RecordFollowUp(actor=OPERATOR, satisfied=False)
    )
    assert state.status is CaseStatus.CLOSED


async def test_a_consultation_answered_at_the_desk_is_closed_and_never_dispatched(
    case_env: CaseEnv,
) -> None:
    answer = DirectAnswer(knowledge_id="cc-prepayment", answer="预收费不得超过1个月。")
    _, handle = await case_env.open(
        category="consultation", institution_name=None, direct_answer=answer, taken_by="op-1"
    )
    state = await case_env.until(handle, lambda s: s.status is CaseStatus.CLOSED)
    assert state.direct_answer and state.outcome is Outcome.ANSWERED
    assert state.deadlines.accept_by is None and state.round == 0
    assert case_env.publisher.to(state.case_id) == []
    with case_env.sessions() as session:
        case = session.get(Case, state.case_id)
        assert case is not None and case.status == CaseStatus.CLOSED
        assert case.knowledge_id == "cc-prepayment" and case.handler is None
        assert not session.exec(select(CaseRound).where(CaseRound.case_id == case.id)).all()
        now = await case_env.now()
        day = now.astimezone(SHANGHAI).date()
        assert compute(session, day, day, now=now).direct_answers >= 1


async def test_a_report_about_a_case_with_its_result_opens_a_linked_case(
    case_env: CaseEnv,
) -> None:
    """Issue: a second family's abuse report joined a case that had already reported its
    result; Health was not told and nothing reopened."""
    name = "炉山镇小星星托育园"
    _, handle = await case_env.open(category="child-abuse", institution_name=name)
    health = department("health")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=health))
    done = await handle.execute_update(
        CaseWorkflow.report_result,
        ReportResult(actor=health, outcome=Outcome.UNSUBSTANTIATED, findings="经核查未发现虐童。"),
    )
    second = complaint(
        category="child-abuse",
        institution_name=name,
        occurred_at=(await case_env.now() + timedelta(hours=1)).isoformat(),
        description="另一位家长反映孩子被保育员打",
    )
    new = await case_env.start(second)
    state = await case_env.until(new, lambda s: s.status is CaseStatus.DISPATCHED)
    assert state.merged_into is None and state.related_to == done.case_id
    assert state.handler == "health"
    [dispatch] = [
        n
        for n in case_env.publisher.to(state.case_id, NotificationKind.DISPATCH)
        if n.recipient == "health"
    ]
    assert done.case_id in dispatch.text
    with case_env.sessions() as session:
        opened = session.get(Case, state.case_id)
        assert opened is not None and opened.related_to == done.case_id


async def test_a_report_joining_an_open_case_tells_its_units(case_env: CaseEnv) -> None:
    name = "炉山镇小月亮托育园"
    _, handle = await case_env.open(category="food-safety", institution_name=name)
    second = complaint(
        category="food-safety",
        institution_name=name,
        occurred_at=(await case_env.now() + timedelta(hours=1)).isoformat(),
    )
    await case_env.start(second)
    state = await case_env.until(handle, lambda s: len(s.linked_cases) == 1)
    [told] = case_env.publisher.to(state.case_id, NotificationKind.LINKED)
    assert told.recipient == "town-lushan" and "并入本案" in told.text


def test_a_lead_handling_the_case_does_not_approve_its_own_extension() -> None:
    from datetime import UTC, datetime

    from models.workflow_io import CaseState, ExtensionRequest

    now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    state = CaseState(
        case_id="TY2",
        status=CaseStatus.ACCEPTED,
        handler="health",
        level=Level.CITY,
        lead=["health"],
        extension_pending=ExtensionRequest(
            unit="health", reason="现场调查", working_days=2, at=now
        ),
    )
    refusal = workorder.decide_extension(state, department("health"))
    assert refusal is not None and refusal.code == "own_request"
    assert workorder.decide_extension(state, LEADING_OFFICE) is None


def test_allowed_actions_follow_the_validators() -> None:
    from datetime import UTC, datetime

    from models.workflow_io import CaseState, RoundDeadlines

    now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    state = CaseState(
        case_id="TY1",
        status=CaseStatus.DISPATCHED,
        handler="town-lushan",
        level=Level.TOWN,
        lead=["samr"],
        deadlines=RoundDeadlines(return_by=now + timedelta(days=1), resolve_by=now),
    )
    assert workorder.allowed_actions(state, town(), now) == ["accept", "return", "notes"]
    assert workorder.allowed_actions(state, department("samr"), now) == [
        "notes",
        "hand-down",
        "take-over",
    ]
    assert "supervise" in workorder.allowed_actions(state, LEADING_OFFICE, now)
    auditor = Actor(name="审计", role=Role.AUDITOR)
    assert workorder.allowed_actions(state, auditor, now) == []
    accepted = state.model_copy(update={"status": CaseStatus.ACCEPTED})
    assert workorder.allowed_actions(accepted, town(), now) == [
        "notes",
        "assist",
        "result",
        "extension",
    ]


def test_a_ban_alert_about_someone_employed_does_not_say_they_were_refused() -> None:
    """Issue: the yearly re-check's alert said "已拒绝其入职登记" though nothing was refused."""
    from datetime import UTC, datetime

    from workflows.registry.alerts import ban_alerts

    common: dict[str, object] = {
        "key": "k",
        "person_masked": "522***********1234",
        "name": "某某",
        "institution_id": "inst-1",
        "institution_name": "炉山镇阳光托育中心",
        "town": "town-lushan",
        "at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    for reason in ("yearly", "new-ban"):
        for alert in ban_alerts(reason=reason, **common):  # type: ignore[arg-type]
            assert "已拒绝" not in alert.text and "在职" in alert.text
    hiring = ban_alerts(reason="hiring", **common)  # type: ignore[arg-type]
    assert all("已拒绝其入职登记" in a.text for a in hiring)


async def test_a_confidential_complaint_keeps_its_contact_for_the_hotline(
    case_env: CaseEnv,
) -> None:
    from models.cases import ComplainantContact

    _, handle = await case_env.open(confidential=True, caller_hash="ab" * 32)
    state = await case_env.state(handle)
    with case_env.sessions() as session:
        case = session.get(Case, state.case_id)
        contact = session.get(ComplainantContact, state.case_id)
        assert case is not None and case.confidential and not case.anonymous
        assert contact is not None and contact.phone_hash == "ab" * 32
    # The units' dispatch says nothing of the caller.
    for n in case_env.publisher.to(state.case_id):
        assert "王女士" not in n.text and "138 0000" not in n.text
    _, anonymous = await case_env.open(anonymous=True, confidential=True, complainant=None)
    with case_env.sessions() as session:
        a = session.get(Case, (await case_env.state(anonymous)).case_id)
        assert a is not None and a.anonymous and not a.confidential


async def test_a_case_is_findable_by_its_search_attributes(case_env: CaseEnv) -> None:
    from workflows.cases import search

    _, handle = await case_env.open(category="food-safety", town="town-wanchao")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town("town-wanchao")))
    described = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(search.CASE_ID) == (await case_env.state(handle)).case_id
    assert attributes.get(search.HANDLER) == "town-wanchao"
    assert attributes.get(search.STATUS) == "accepted"
    assert attributes.get(search.CATEGORY) == "food-safety"
    assert attributes.get(search.DUE_AT) is not None
    # Never personal data: no attribute carries the caller or the description.
    assert "王女士" not in str(described.raw_description)


def test_knowledge_entries_are_validated_on_load(tmp_path: object) -> None:
    from pathlib import Path

    import pytest

    from infra import knowledge

    entries = knowledge.load()
    assert 10 <= len(entries) <= 20
    assert all("〔" in e.source.document_number for e in entries.values())
    assert knowledge.search("ysf")[0].id == "cc-prepayment"  # pinyin initials of 预收费
    assert knowledge.search("监控 公安")[0].id == "cc-video"
    bad = Path(str(tmp_path)) / "bad.toml"
    bad.write_text(
        '[[entry]]\nid = "x-1"\nquestion = "问题问题"\nanswer = "答案答案答案答案答案"\n'
        'keywords = ["a"]\ncategory = "aa"\ndepartment = "nowhere"\n'
        "effective_from = 2021-01-01\nreviewed_on = 2021-01-01\n"
        'source = { title = "文件", document_number = "凯府办函〔2021〕54号" }\n',
        "utf-8",
    )
    with pytest.raises(knowledge.KnowledgeError, match="x-1"):
        knowledge.load(Path(str(tmp_path)))
