"""Handing a complaint to its case workflow: signal-with-start, idempotent by business key."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from infra import reference
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
        static_summary=summary(case_id, complaint),
        static_details=details(complaint),
    )
    return case_id


def summary(case_id: str, complaint: ComplaintReceived) -> str:
    """What the Temporal UI shows in its list: the case, never the caller or the text."""
    info = reference.catalogue()[complaint.category]
    town = reference.units().get(complaint.town)
    return f"托育监管案件 {case_id}：{info.name}（{town.name if town else complaint.town}）"


def details(complaint: ComplaintReceived) -> str:
    kind = "直接答复" if complaint.direct_answer else "派单办理"
    return (
        f"**渠道**：{complaint.channel}  \n**类别**：{complaint.category}  \n"
        f"**机构**：{complaint.institution_id or '未登记'}  \n**处理方式**：{kind}"
    )
