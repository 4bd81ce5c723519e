"""Case workflows started by an earlier version of the code still replay on this one.

A case lives for weeks: when a worker is upgraded, the cases it picks up again are replayed
from their histories. `data/histories/` holds histories recorded with earlier versions; each
must replay without a nondeterminism error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from models.case_actions import AcceptCase
from tests.case_env import CaseEnv, town
from workflows.cases.workflows import CaseWorkflow

HISTORIES = Path(__file__).parent / "data" / "histories"
REPLAYER = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)


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
async def test_a_history_from_an_earlier_version_replays(name: str) -> None:
    text = (HISTORIES / name).read_text()
    await REPLAYER.replay_workflow(WorkflowHistory.from_json("case", text))


async def test_a_new_case_plans_its_first_round_while_opening(case_env: CaseEnv) -> None:
    """Opening, planning and recording the dispatch: two local activities now, three before
    (`case-planned-in-own-step.json`), and both kinds of history replay."""
    _, handle = await case_env.open(town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    history = await handle.fetch_history()
    recorded = json.loads(history.to_json())
    assert local_activities_at_open(recorded) == 2
    assert '"markerName": "core_patch"' in history.to_json()  # PLANNED_AT_OPEN
    await REPLAYER.replay_workflow(history)
    earlier = json.loads((HISTORIES / "case-planned-in-own-step.json").read_text())
    assert local_activities_at_open(earlier) == 3


async def record_work_orders(case_env: CaseEnv) -> str:
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
    await REPLAYER.replay_workflow(history)
    return history.to_json()


async def test_a_work_order_history_replays(case_env: CaseEnv) -> None:
    """Recorded with the work-order steps (`work-orders.json`); set TUOYU_RECORD_HISTORIES=1
    to write it again."""
    import os

    text = await record_work_orders(case_env)
    # PLANNED_AT_OPEN, RETURN_REVIEW and NOTICE_CLOCK
    assert text.count('"markerName": "core_patch"') >= 3
    if os.environ.get("TUOYU_RECORD_HISTORIES"):
        (HISTORIES / "work-orders.json").write_text(text)
