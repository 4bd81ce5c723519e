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
# What the Temporal UI shows for each kind of registry workflow (no personal data).
SUMMARIES = {
    "institution": "机构登记备案",
    "staff-hired": "入职登记及禁入核查",
    "staff-left": "离职登记",
    "manager-changed": "直接管理人员变更",
    "check": "入职前禁入核查",
    "device": "视频设备登记",
}


def summary(command: RegistryCommand) -> str:
    if command.staff is not None:
        what, where = SUMMARIES[command.staff.type], command.staff.institution_id
    elif command.device is not None:
        what, where = SUMMARIES["device"], command.device.institution_id
    else:
        assert command.institution is not None
        what, where = SUMMARIES["institution"], command.institution.institution_id
    return f"{what}（机构 {where or '未登记'}）"


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
        static_summary=summary(command),
    )


async def check_staff(
    client: Client, command: RegistryCommand, task_queue: str
) -> StaffCheckResult:
    result = await client.execute_workflow(
        RegistryEventWorkflow.run,
        command,
        # A ban check asked for over the API, told apart from registry events by its id.
        id=f"ban-check-{command.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        execution_timeout=timedelta(minutes=2),
        static_summary=summary(command),
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
        static_summary=f"人脸识别禁入比对（设备 {match.device_id}）",
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
