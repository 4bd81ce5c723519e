"""Handing an inspection report to its workflow, then its serious findings to their cases."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from models.inspections import InspectionReport
from workflows.cases.starter import submit_complaint
from workflows.inspections.workflows import InspectionWorkflow


async def submit_inspection(client: Client, report: InspectionReport, task_queue: str) -> list[str]:
    """Returns the ids of the cases the serious findings opened or joined.

    A repeat runs the workflow again (its activity is idempotent and returns the same
    complaints), so a crash between the two steps loses no case.
    """
    result = await client.execute_workflow(
        InspectionWorkflow.run,
        report,
        id=f"inspection-{report.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return [await submit_complaint(client, c, task_queue) for c in result.complaints]
