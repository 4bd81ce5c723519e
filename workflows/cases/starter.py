"""Handing a complaint to its case workflow: signal-with-start, idempotent by business key."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.cases import case_id_for, workflow_id_for
from models.complaints import ComplaintReceived
from models.workflow_io import CaseWorkflowInput
from workflows.cases.workflows import CaseWorkflow


async def submit_complaint(client: Client, complaint: ComplaintReceived, task_queue: str) -> str:
    """Start the case's workflow, or signal the one already running; returns the case id.

    The workflow id comes from the event id, so the same event handed over twice reaches the
    same workflow, which ignores the repeat. A closed case is never started again.
    """
    case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    await client.start_workflow(
        CaseWorkflow.run,
        CaseWorkflowInput(case_id=case_id),
        id=workflow_id_for(case_id),
        task_queue=task_queue,
        start_signal="complaint",
        start_signal_args=[complaint],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return case_id
