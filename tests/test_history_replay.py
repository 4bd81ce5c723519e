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
from temporalio.worker import Replayer

from infra.codec import data_converter
from infra.settings import Settings
from infra.vault import load_vault
from models.case_actions import AcceptCase
from tests.case_env import CaseEnv, town
from workflows.cases.workflows import CaseWorkflow

HISTORIES = Path(__file__).parent / "data" / "histories"


@pytest.fixture(scope="module")
def replayer(settings: Settings) -> Replayer:
    """With the stack's data converter: recorded histories are in clear (from before the
    payload codec) and pass through it; new ones are encrypted."""
    return Replayer(workflows=[CaseWorkflow], data_converter=data_converter(load_vault(settings)))


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
    await replayer.replay_workflow(WorkflowHistory.from_json("case", text))


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
