"""Handing registry events and staff checks to their workflows."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.camera import FaceMatch
from models.registry import RegistryCommand, StaffCheckResult
from workflows.cases.starter import submit_complaint
from workflows.registry.workflows import (
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
    RegistryEventWorkflow,
)

YEARLY_RECHECK = "staff-yearly-recheck"


async def submit_registry_event(client: Client, command: RegistryCommand, task_queue: str) -> None:
    """Idempotent by the event id: a replayed event reaches the same workflow. Waits until it
    is applied, so that one institution's events apply in their order on the topic."""
    await client.execute_workflow(
        RegistryEventWorkflow.run,
        command,
        id=f"registry-{command.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def check_staff(
    client: Client, command: RegistryCommand, task_queue: str
) -> StaffCheckResult:
    result = await client.execute_workflow(
        RegistryEventWorkflow.run,
        command,
        id=f"registry-{command.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        execution_timeout=timedelta(minutes=2),
    )
    assert result is not None
    return result


async def handle_face_match(client: Client, match: FaceMatch, task_queue: str) -> str | None:
    """Check a face seen by a camera; a banned person opens a critical case (its id)."""
    complaint = await client.execute_workflow(
        FaceMatchWorkflow.run,
        match,
        id=f"face-{match.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    if complaint is None:
        return None
    return await submit_complaint(client, complaint, task_queue)


async def ensure_yearly_recheck(client: Client, task_queue: str) -> None:
    """The yearly re-check of all employment: 2 January, 02:00 Beijing time."""
    try:
        await client.create_schedule(
            YEARLY_RECHECK,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    EmploymentRecheckWorkflow.run, id="staff-recheck", task_queue=task_queue
                ),
                spec=ScheduleSpec(
                    calendars=[
                        ScheduleCalendarSpec(
                            month=[ScheduleRange(1)],
                            day_of_month=[ScheduleRange(2)],
                            hour=[ScheduleRange(2)],
                        )
                    ],
                    time_zone_name="Asia/Shanghai",
                ),
            ),
        )
    except ScheduleAlreadyRunningError:
        pass
