"""One short workflow per inspection report."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.inspections import InspectionReport
    from workflows.inspections.activities import InspectionActivities, InspectionResult

RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@workflow.defn
class InspectionWorkflow:
    @workflow.run
    async def run(self, report: InspectionReport) -> InspectionResult:
        return await workflow.execute_local_activity_method(
            InspectionActivities.record_inspection,
            report,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
