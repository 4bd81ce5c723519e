"""The Temporal worker's sandbox passes our workflow packages and models through: a workflow
run no longer imports its module afresh (py-spy, under the throughput bench: a third of the
worker's busy time went to re-executing workflows/cases/workflows.py per run), and every
recorded history still replays under that runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from infra.codec import data_converter
from infra.settings import Settings
from infra.vault import load_vault
from workers.temporal_worker import WORKFLOW_RUNNER, WORKFLOWS

HISTORIES = Path(__file__).parent / "data" / "histories"


def replayer(settings: Settings, runner: WorkflowRunner) -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(load_vault(settings)),
        workflow_runner=runner,
    )


def history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(p.stem for p in HISTORIES.glob("*.json")))
async def test_every_history_replays_under_the_workers_runner(
    name: str, settings: Settings
) -> None:
    await replayer(settings, WORKFLOW_RUNNER).replay_workflow(history(name))


async def test_a_case_run_does_not_import_its_workflow_module_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module executed inside the sandbox calls `workflow.defn` (temporalio itself is
    passed through, so the call is seen here); one passed through is not executed again."""
    defined: list[str] = []
    original = workflow.defn

    def counting(cls: Any = None, **options: Any) -> Any:
        def apply(target: type) -> Any:
            defined.append(target.__qualname__)
            return original(target, **options) if options else original(target)

        return apply(cls) if cls is not None else apply

    monkeypatch.setattr(workflow, "defn", counting)
    case = history("work-orders")
    default: Callable[[], WorkflowRunner] = SandboxedWorkflowRunner
    await replayer(settings, default()).replay_workflow(case)
    assert "CaseWorkflow" in defined  # the default sandbox re-executes the module: seen
    defined.clear()
    await replayer(settings, WORKFLOW_RUNNER).replay_workflow(case)
    assert defined == []
