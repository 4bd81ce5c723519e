"""One short workflow per inspection report: recorded, then its serious findings opened (or
joined) as cases, each a child workflow."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.inspections import InspectionReport
    from workflows.inspections.activities import InspectionActivities, InspectionResult
    from workflows.local import local
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, open_case, park

# workflow.patched: histories from before the stream stopped waiting on the report's result
INSPECTION_OPENS_CASES = "inspection-opens-its-cases"


@workflow.defn
class InspectionWorkflow:
    @workflow.run
    async def run(self, report: InspectionReport) -> InspectionResult:
        if not workflow.patched(INSPECTION_OPENS_CASES):
            return await self._record(report)
        try:
            result = await self._record(report)
        except ACTIVITY_FAILED as err:
            if failed_for_good(err) is None:
                raise
            await park(
                f"inspection:{report.event_id}",
                "inspection",
                err,
                report,
                event_id=report.event_id,
                key=report.institution_id,
            )
            return InspectionResult(complaints=[])
        for complaint in result.complaints:
            await open_case(complaint, key=report.institution_id)
        return result

    @staticmethod
    async def _record(report: InspectionReport) -> InspectionResult:
        return await local(InspectionActivities.record_inspection, report)
