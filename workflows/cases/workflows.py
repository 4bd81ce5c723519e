"""The case workflow. Deterministic: no I/O here, only activities do that."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.cases import CaseStatus
    from models.complaints import ComplaintReceived
    from models.workflow_io import (
        CaseState,
        CaseWorkflowInput,
        OpenCaseInput,
        PublishDispatchesInput,
    )
    from workflows.cases.activities import CaseActivities

# Local activities: a database write and a Kafka produce each take milliseconds, and running
# them inside the workflow task spares the server an activity task per step.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@workflow.defn
class CaseWorkflow:
    def __init__(self) -> None:
        self._pending: list[ComplaintReceived] = []
        self._state: CaseState | None = None

    @workflow.signal
    def complaint(self, complaint: ComplaintReceived) -> None:
        # The same event may arrive twice (a replayed topic, a retried hand-off).
        known = self._state.event_ids if self._state else []
        if complaint.event_id in known or any(
            p.event_id == complaint.event_id for p in self._pending
        ):
            return
        self._pending.append(complaint)

    @workflow.query
    def state(self) -> CaseState | None:
        return self._state

    @workflow.run
    async def run(self, params: CaseWorkflowInput) -> None:
        self._state = CaseState(case_id=params.case_id)
        await workflow.wait_condition(lambda: bool(self._pending))
        first = self._pending.pop(0)
        self._state.event_ids.append(first.event_id)

        routing = await workflow.execute_local_activity_method(
            CaseActivities.open_case,
            OpenCaseInput(
                case_id=params.case_id, workflow_id=workflow.info().workflow_id, complaint=first
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._state.routing = routing

        await workflow.execute_local_activity_method(
            CaseActivities.publish_dispatches,
            PublishDispatchesInput(
                case_id=params.case_id,
                recipients=routing.dispatch_to,
                priority=routing.priority,
                complaint=first,
                occurred_at=workflow.now(),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._state.dispatched_to = routing.dispatch_to
        self._state.status = CaseStatus.DISPATCHED

        # The case stays open for the units' actions (acceptance, results, closure), which
        # the lifecycle adds; until then it only answers queries and ignores replays.
        await workflow.wait_condition(lambda: False)
