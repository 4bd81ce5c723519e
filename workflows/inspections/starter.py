"""Handing an inspection report to its workflow, which records it and opens its serious
findings' cases itself."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.inspections import InspectionReport
from workflows.inspections.workflows import InspectionWorkflow


async def submit_inspection(client: Client, report: InspectionReport, task_queue: str) -> None:
    """Start the report's workflow and return (idempotent by the event id)."""
    await client.start_workflow(
        InspectionWorkflow.run,
        report,
        id=f"inspection-{report.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
