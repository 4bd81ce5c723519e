"""Handing registry events and staff checks to their workflows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    WorkflowFailureError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.camera import FaceMatch
from models.registry import RegistryCommand, RegistryStream, StaffCheckResult, registry_key
from workflows.registry.workflows import (
    EmploymentRecheckWorkflow,
    FaceMatchWorkflow,
    InstitutionRegistryWorkflow,
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


class StaffCheckUnavailable(Exception):
    """The staff check's workflow did not answer in time, or failed."""


def registry_workflow_id(key: str) -> str:
    return f"registry-institution-{key}"


async def submit_registry_event(client: Client, command: RegistryCommand, task_queue: str) -> None:
    """Signal the event to its institution's workflow (started if need be) and return: that
    workflow applies the institution's events one at a time, in the order signalled, which is
    the topic's order (one key, one partition, one agent). Idempotent by the event id."""
    key = registry_key(command)
    await client.start_workflow(
        InstitutionRegistryWorkflow.run,
        RegistryStream(key=key),
        id=registry_workflow_id(key),
        task_queue=task_queue,
        start_signal="event",
        start_signal_args=[command],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"机构登记与人员事件（{key}）",
    )


async def check_staff(
    client: Client, command: RegistryCommand, task_queue: str, wait_seconds: float = 20.0
) -> StaffCheckResult:
    """A staff check over HTTP waits for its answer, but at most `wait_seconds`."""
    handle = await client.start_workflow(
        RegistryEventWorkflow.run,
        command,
        # A ban check asked for over the API, told apart from registry events by its id.
        id=f"ban-check-{command.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        execution_timeout=timedelta(minutes=2),
        static_summary=summary(command),
    )
    try:
        result = await asyncio.wait_for(handle.result(), wait_seconds)
    except TimeoutError as exc:
        raise StaffCheckUnavailable(f"no answer within {wait_seconds:.0f}s") from exc
    except WorkflowFailureError as exc:
        raise StaffCheckUnavailable(f"check failed: {exc.cause}") from exc
    assert result is not None
    return result


async def handle_face_match(client: Client, match: FaceMatch, task_queue: str) -> None:
    """Hand a face seen by a camera to its check; a banned person's case is opened by that
    workflow itself. Returns once the workflow is started (or was already)."""
    await client.start_workflow(
        FaceMatchWorkflow.run,
        match,
        id=f"face-{match.event_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"人脸识别禁入比对（设备 {match.device_id}）",
    )


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
