"""Workflow-side parking and hand-on. Deterministic: temporalio, stdlib and models only.

`failed_for_good` tells a deterministic activity failure (non-retryable, see infra/poison.py)
from the rest; `park` records it through the `park_event` activity; `open_case` starts the
case of a complaint a short workflow produced, as a child that outlives its parent.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.cases import case_id_for, workflow_id_for
    from models.complaints import ComplaintReceived
    from models.parking import ParkEvent
    from models.workflow_io import CaseWorkflowInput

PARK_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["DataError", "IntegrityError", "ValueError", "OverflowError"],
)


# A local activity's failure reaches the workflow as the activity's ApplicationError itself
# (an activity's as an ActivityError around it).
ACTIVITY_FAILED = (ActivityError, ApplicationError)


def failed_for_good(err: BaseException) -> ApplicationError | None:
    cause = err.cause if isinstance(err, ActivityError | ChildWorkflowError) else err
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        return cause
    return None


async def park(
    step: str,
    kind: str,
    failure: BaseException,
    payload: BaseModel | str,
    *,
    event_id: str | None = None,
    case_id: str | None = None,
    key: str | None = None,
) -> None:
    """Record a deterministic failure; never raises (a failure to park is logged: the
    workflow must go on either way)."""
    info = workflow.info()
    cause = failed_for_good(failure)
    text = payload if isinstance(payload, str) else payload.model_dump_json()
    event = ParkEvent(
        id=f"{info.workflow_id}:{step}"[:200],
        workflow_id=info.workflow_id,
        workflow_type=info.workflow_type,
        kind=kind,
        event_id=event_id,
        case_id=case_id,
        key=key,
        error_type=(cause.type if cause is not None else None) or type(failure).__name__,
        reason=(cause.message if cause is not None else str(failure))[:1000],
        payload=text,
    )
    try:
        await workflow.execute_local_activity(
            "park_event",
            event,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PARK_RETRY,
        )
    except ACTIVITY_FAILED:
        workflow.logger.exception("could not park %s", event.id)


async def open_case(complaint: ComplaintReceived, *, key: str | None = None) -> str | None:
    """Start the complaint's case workflow as a child (abandoned when this one closes) and
    hand it the complaint; the case id, or None when the complaint was parked.

    Idempotent like the stream's signal-with-start: the id comes from the event, a running
    case gets the signal (and ignores a repeat), a closed one is never started again."""
    try:
        case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    except (OverflowError, ValueError) as exc:  # a date the calendar cannot place
        failure = ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)
        await park(f"case:{complaint.event_id}", "complaint", failure, complaint, key=key)
        return None
    workflow_id = workflow_id_for(case_id)
    try:
        child = await workflow.start_child_workflow(
            "CaseWorkflow",
            CaseWorkflowInput(case_id=case_id),
            id=workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        await child.signal("complaint", complaint)
    except WorkflowAlreadyStartedError:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal("complaint", complaint)
        except FailureError:
            pass  # its case ran and closed: a replay
    return case_id
