"""Registry workflows: one short workflow per registry event, and the employment re-check
that a yearly Temporal Schedule (and every new ban) starts."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.camera import FaceMatch
    from models.complaints import ComplaintReceived
    from models.registry import RegistryCommand, StaffCheckResult
    from models.workflow_io import RecheckEmployment
    from workflows.registry.activities import RegistryActivities

RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@workflow.defn
class RegistryEventWorkflow:
    @workflow.run
    async def run(self, command: RegistryCommand) -> StaffCheckResult | None:
        return await workflow.execute_local_activity_method(
            RegistryActivities.apply_registry_event,
            command,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )


@workflow.defn
class EmploymentRecheckWorkflow:
    """Everyone employed, against the ban registry. Started by the yearly schedule with no
    input (the key and time come from the run), or with the persons of a new ban."""

    @workflow.run
    async def run(self, params: RecheckEmployment | None = None) -> int:
        if params is None:
            now = workflow.now()
            params = RecheckEmployment(
                key=f"yearly:{workflow.info().workflow_id}", at=now, reason="yearly"
            )
        return await workflow.execute_activity_method(
            RegistryActivities.recheck_employment,
            params,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RETRY,
        )


@workflow.defn
class FaceMatchWorkflow:
    """A face-recognition alarm, checked against the ban registry."""

    @workflow.run
    async def run(self, match: FaceMatch) -> ComplaintReceived | None:
        return await workflow.execute_local_activity_method(
            RegistryActivities.check_face_match,
            match,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
