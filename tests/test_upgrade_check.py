"""`tuoyu upgrade-check` replays the open workflows of the running Temporal on this code: it
passes on the real code and catches a change that breaks determinism."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import httpx
from temporalio import workflow
from temporalio.client import Client

from models.workflow_io import CaseWorkflowInput
from tests.factories import complaint_payload
from tests.polling import wait_for_case
from workers.stack import Stack, child_env
from workers.temporal_worker import WORKFLOWS
from workers.upgrade import upgrade_check


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class ChangedCaseWorkflow:
    """A "new version" of the case workflow that waits before opening the case: a running
    case recorded a local activity where this code now starts a timer."""

    @workflow.run
    async def run(self, params: CaseWorkflowInput) -> None:
        await workflow.sleep(timedelta(minutes=1))


async def open_case(http: httpx.AsyncClient) -> str:
    payload = complaint_payload(town="street-ximen")
    del payload["event_id"], payload["occurred_at"]
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    case_id: str = response.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched")
    return case_id


async def test_open_cases_replay_on_this_code_and_a_breaking_change_is_caught(
    stack: Stack, http: httpx.AsyncClient, temporal_client: Client
) -> None:
    case_id = await open_case(http)
    query = f'WorkflowId="case-{case_id}" AND ExecutionStatus="Running"'

    outcomes = await upgrade_check(temporal_client, WORKFLOWS, query)
    assert [(o.workflow_type, o.ok) for o in outcomes] == [("CaseWorkflow", True)], outcomes

    changed = [ChangedCaseWorkflow, *(w for w in WORKFLOWS if w.__name__ != "CaseWorkflow")]
    outcomes = await upgrade_check(temporal_client, changed, query)
    assert len(outcomes) == 1 and not outcomes[0].ok
    assert "nondetermin" in (outcomes[0].error or "").lower(), outcomes[0].error


async def test_the_command_exits_0_on_the_real_code(stack: Stack, http: httpx.AsyncClient) -> None:
    case_id = await open_case(http)
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "workers.cli",
            "upgrade-check",
            "--query",
            f'WorkflowId="case-{case_id}"',
        ],
        env={**os.environ, **child_env(stack.settings)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 open workflows replayed, 0 would break" in result.stdout
