"""Handing alarms to their cases: the first of a storm opens (or joins) one, the window's
count follows as a signal."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from models.camera import AlarmStorm, DeviceAlarm
from models.cases import case_id_for, workflow_id_for
from models.complaints import ComplaintReceived
from workflows.alarms.workflows import AlarmWorkflow
from workflows.cases.workflows import CaseWorkflow


def alarm_workflow_id(event_id: str) -> str:
    return f"alarm-{event_id}"


async def submit_alarm(client: Client, alarm: DeviceAlarm, task_queue: str) -> None:
    """Start the alarm's workflow and return: it resolves the device's institution and opens
    (or joins) the case itself. A replay reaches the same workflow (id from the event);
    `WorkflowAlreadyStartedError` once that one has closed."""
    await client.start_workflow(
        AlarmWorkflow.run,
        alarm,
        id=alarm_workflow_id(alarm.event_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def report_storm(client: Client, alarm: DeviceAlarm, storm: AlarmStorm) -> bool:
    """Signal the storm's count to the case its first alarm opened, or to the case that one
    was merged into. False when there is none running (not started yet, or closed).

    The case is found through the first alarm's workflow, whose id comes from the event id
    alone: the case id also carries the day of the alarm's own time, which is the device's
    clock and need not fall on the window's day."""
    # None (an unregistered device) travels as Temporal's null payload, whatever the type.
    first = client.get_workflow_handle(
        alarm_workflow_id(alarm.event_id), result_type=ComplaintReceived
    )
    try:
        described = await first.describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    if described.status is not WorkflowExecutionStatus.COMPLETED:
        return False  # still opening the case: the next round asks again
    complaint: ComplaintReceived | None = await first.result()
    if complaint is None:
        return False  # an unregistered device: no case
    case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    for _ in range(3):
        handle = client.get_workflow_handle(workflow_id_for(case_id))
        try:
            await handle.signal(CaseWorkflow.storm, storm)
            return True
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
        try:
            state = await handle.query(CaseWorkflow.state)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        if state.merged_into is None:
            return False
        case_id = state.merged_into
    return False
