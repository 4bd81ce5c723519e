"""Case workflows started by an earlier version of the code still replay on this one.

A case lives for weeks: when a worker is upgraded, the cases it picks up again are replayed
from their histories. `data/histories/` holds histories recorded with earlier versions; each
must replay without a nondeterminism error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.codec import data_converter
from infra.settings import Settings
from infra.vault import load_vault
from models.audit import AuditRecord
from models.case_actions import AcceptCase
from models.cases import case_id_for
from models.complaints import ComplaintReceived
from models.notifications import DeadLetter
from tests.case_env import TASK_QUEUE, CaseEnv, town
from tests.history_scenarios import SCENARIOS
from tests.polling import eventually
from workers.temporal_worker import WORKFLOWS
from workflows.cases.starter import submit_complaint
from workflows.cases.workflows import CaseWorkflow

HISTORIES = Path(__file__).parent / "data" / "histories"


# Every workflow type and patch branch: data/histories/README.md lists each file (what it covers,
# the commit it was recorded on); tests/test_history_coverage.py checks that nothing is missing;
# `python -m tests.record_history` records new ones.
@pytest.fixture(scope="module")
def replayer(settings: Settings) -> Replayer:
    """With the stack's data converter: recorded histories are in clear (from before the
    payload codec) and pass through it; new ones are encrypted."""
    return Replayer(workflows=WORKFLOWS, data_converter=data_converter(load_vault(settings)))


def local_activities_at_open(history: dict[str, object]) -> int:
    """Local activity markers recorded in the first workflow task."""
    markers = 0
    for event in history["events"]:  # type: ignore[attr-defined]
        if event["eventType"] == "EVENT_TYPE_TIMER_STARTED":
            break
        attributes = event.get("markerRecordedEventAttributes") or {}
        markers += attributes.get("markerName") == "core_local_activity"
    return markers


@pytest.mark.parametrize("name", sorted(p.name for p in HISTORIES.glob("*.json")))
async def test_a_history_from_an_earlier_version_replays(name: str, replayer: Replayer) -> None:
    text = (HISTORIES / name).read_text()
    await replayer.replay_workflow(WorkflowHistory.from_json(name.removesuffix(".json"), text))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_a_recorders_scenario_runs_and_its_history_replays(
    name: str, case_env: CaseEnv, replayer: Replayer
) -> None:
    """Each scenario of `python -m tests.record_history` still runs on this code (the next
    history can be recorded) and its fresh history replays: nothing in a workflow depends on
    more than its history."""
    handle = await SCENARIOS[name].run(case_env)
    history = await handle.fetch_history()
    assert history.events[0].workflow_execution_started_event_attributes.workflow_type.name == (
        SCENARIOS[name].workflow_type
    )
    await replayer.replay_workflow(history)


async def test_a_new_case_plans_its_first_round_while_opening(
    case_env: CaseEnv, replayer: Replayer
) -> None:
    """Opening, planning and recording the dispatch: two local activities now, three before
    (`case-planned-in-own-step.json`), and both kinds of history replay."""
    _, handle = await case_env.open(town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    history = await handle.fetch_history()
    recorded = json.loads(history.to_json())
    assert local_activities_at_open(recorded) == 2
    assert '"markerName": "core_patch"' in history.to_json()  # PLANNED_AT_OPEN
    await replayer.replay_workflow(history)
    earlier = json.loads((HISTORIES / "case-planned-in-own-step.json").read_text())
    assert local_activities_at_open(earlier) == 3


async def test_a_reused_event_id_with_other_content_is_refused_not_swallowed(
    case_env: CaseEnv, replayer: Replayer
) -> None:
    """Finding 5 on a topic: the same event id with other content reaches the case it opened
    (same workflow id); it is dead-lettered with its key and recorded, the case unchanged.
    The same content again is a plain duplicate. `case-event-id-reused-before-refusal.json`
    (the old code, which ignored it) still replays."""
    first, handle = await case_env.open(town="town-lushan")
    other = first.model_copy(update={"description": "另一位话务员的另一份投诉。"})
    await submit_complaint(case_env.client, first, TASK_QUEUE)  # a plain duplicate
    await submit_complaint(case_env.client, other, TASK_QUEUE)

    def refused() -> list[DeadLetter]:
        return [
            letter
            for key, letter in case_env.publisher.dead
            if key == first.event_id and letter.reason == "event_id reused with different content"
        ]

    assert await eventually(lambda: len(refused()) == 1)
    letter = refused()[0]
    assert ComplaintReceived.model_validate_json(letter.original) == other
    case_id = case_id_for(first.event_id, first.occurred_at)
    assert await eventually(lambda: _reused_records(case_env, case_id) == 1)
    state = await case_env.state(handle)
    assert state.event_ids == [first.event_id]
    history = await handle.fetch_history()
    assert '"markerName": "core_patch"' in history.to_json()
    await replayer.replay_workflow(history)


def _reused_records(case_env: CaseEnv, case_id: str) -> int:
    with case_env.sessions() as session:
        return len(
            session.exec(
                select(AuditRecord)
                .where(AuditRecord.case_id == case_id)
                .where(AuditRecord.action == "intake.event-id-reused")
            ).all()
        )


async def record_work_orders(case_env: CaseEnv, replayer: Replayer) -> str:
    """A case through the work-order steps: a return rejected, a return approved, an
    extension asked and approved, a supervision order, then 通报约谈 and its reminder."""
    from datetime import timedelta

    from models.case_actions import (
        DecideExtension,
        RequestExtension,
        ReturnCase,
        ReviewReturn,
        Supervise,
    )
    from tests.case_env import LEADING_OFFICE, OPERATOR, department

    _, handle = await case_env.open(category="prepayment", town="town-lushan")
    await handle.execute_update(
        CaseWorkflow.return_case, ReturnCase(actor=town(), reason="不属本镇")
    )
    await handle.execute_update(
        CaseWorkflow.review_return, ReviewReturn(actor=OPERATOR, approve=False, reason="属本镇")
    )
    await handle.execute_update(
        CaseWorkflow.return_case, ReturnCase(actor=town(), reason="仍不属本镇")
    )
    await handle.execute_update(
        CaseWorkflow.review_return,
        ReviewReturn(actor=LEADING_OFFICE, approve=True, reason="改派", to_unit="town-wanchao"),
    )
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town("town-wanchao")))
    await handle.execute_update(
        CaseWorkflow.request_extension,
        RequestExtension(actor=town("town-wanchao"), working_days=2, reason="需调查"),
    )
    await handle.execute_update(
        CaseWorkflow.decide_extension,
        DecideExtension(actor=department("samr"), approve=True, reason="同意"),
    )
    await handle.execute_update(
        CaseWorkflow.supervise,
        Supervise(
            actor=LEADING_OFFICE,
            comments="请加快办理",
            due_by=await case_env.now() + timedelta(days=2),
        ),
    )
    state = await case_env.state(handle)
    await case_env.pass_time_until(state.deadlines.resolve_by)  # escalated to the city
    state = await case_env.until(handle, lambda s: s.level is not None and s.level != "town")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=department("samr")))
    await case_env.pass_time_until(state.deadlines.resolve_by)  # 通报约谈
    state = await case_env.until(handle, lambda s: s.level == "leading-office")
    await case_env.pass_time_until(state.deadlines.resolve_by)  # its reminder
    await case_env.until(handle, lambda s: s.history[-1].action == "case.notice-reminder")
    history = await handle.fetch_history()
    await replayer.replay_workflow(history)
    return history.to_json()


async def test_a_work_order_history_replays(case_env: CaseEnv, replayer: Replayer) -> None:
    """The work-order steps on this code replay; `work-orders.json` holds them as recorded on
    87f6d4f. It is not written again from here: the payloads here are encrypted with this test
    run's vault key, which the next run does not have (tests/record_history.py records in
    clear)."""
    text = await record_work_orders(case_env, replayer)
    # PLANNED_AT_OPEN, RETURN_REVIEW, NOTICE_CLOCK and SEARCHABLE
    assert text.count('"markerName": "core_patch"') >= 4


async def test_a_supervision_order_timer_history_replays(
    case_env: CaseEnv, replayer: Replayer
) -> None:
    """A 督办 whose deadline passes unanswered: the history with the timer replays
    (`case-supervision-order-overdue.json` holds it as recorded; the histories with supervision
    orders from before the timer, `work-orders*.json`, replay above)."""
    handle = await SCENARIOS["case-supervision-order-overdue"].run(case_env)
    history = await handle.fetch_history()
    await replayer.replay_workflow(history)
    assert history.to_json().count('"markerName": "core_patch"') >= 2  # the timer's among them
