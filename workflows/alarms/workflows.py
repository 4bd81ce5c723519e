"""One short workflow per alarm that should reach a case (one per device and storm window)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.camera import DeviceAlarm
    from models.complaints import ComplaintReceived
    from workflows.alarms.activities import AlarmActivities

RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@workflow.defn
class AlarmWorkflow:
    @workflow.run
    async def run(self, alarm: DeviceAlarm) -> ComplaintReceived | None:
        return await workflow.execute_local_activity_method(
            AlarmActivities.resolve_alarm,
            alarm,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
