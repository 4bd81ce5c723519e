"""`tuoyu upgrade-check`: will the new code replay every workflow that is running now?

A case holds timers for weeks. When a Temporal worker restarts on new code, each running
workflow it picks up is replayed from its history; a change that makes the code take another
path than the history recorded fails that workflow task again and again (a nondeterminism
error) and the case stops moving. This replays, before the restart, the history of every open
workflow in the namespace against the code installed here, with the SDK's `Replayer`, and says
which would break.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    run_id: str
    workflow_type: str
    error: str | None  # None: replays on this code

    @property
    def ok(self) -> bool:
        return self.error is None


async def open_histories(client: Client, query: str) -> list[WorkflowHistory]:
    """The histories of the workflows the visibility query selects (running ones by default).

    Fetched one at a time: a namespace of a city holds thousands of open cases, not millions,
    and each history is a few hundred events."""
    histories: list[WorkflowHistory] = []
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.append(await handle.fetch_history())
    return histories


async def check_histories(
    client: Client, histories: Sequence[WorkflowHistory], workflows: Sequence[type]
) -> list[ReplayOutcome]:
    """Replay each history on `workflows` (the classes this code registers on its worker)."""
    replayer = Replayer(workflows=list(workflows), data_converter=client.data_converter)
    outcomes: list[ReplayOutcome] = []
    for history in histories:
        kind = workflow_type(history)
        # A type this version no longer registers fails here too ("not registered").
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        error = None if result.replay_failure is None else str(result.replay_failure)
        outcomes.append(ReplayOutcome(history.workflow_id, run_id(history), kind, error))
    return outcomes


async def upgrade_check(
    client: Client,
    workflows: Sequence[type],
    query: str = 'ExecutionStatus="Running"',
) -> list[ReplayOutcome]:
    return await check_histories(client, await open_histories(client, query), workflows)


def workflow_type(history: WorkflowHistory) -> str:
    first = history.events[0]
    return first.workflow_execution_started_event_attributes.workflow_type.name


def run_id(history: WorkflowHistory) -> str:
    first = history.events[0]
    return first.workflow_execution_started_event_attributes.original_execution_run_id
