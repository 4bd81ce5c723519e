"""One short workflow per alarm that should reach a case (one per device and storm window):
it resolves the alarm to its institution and opens (or joins) the case as a child."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.camera import DeviceAlarm
    from models.complaints import ComplaintReceived
    from workflows.alarms.activities import AlarmActivities
    from workflows.local import local
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, open_case, park

# workflow.patched: histories from before the stream stopped waiting on the alarm's result
ALARM_OPENS_CASE = "alarm-opens-its-case"


@workflow.defn
class AlarmWorkflow:
    @workflow.run
    async def run(self, alarm: DeviceAlarm) -> ComplaintReceived | None:
        """The complaint its case was opened with; None for an unregistered device (then
        dead-lettered and audited by the activity) or a parked alarm."""
        if not workflow.patched(ALARM_OPENS_CASE):
            return await self._resolve(alarm)
        try:
            complaint = await self._resolve(alarm)
        except ACTIVITY_FAILED as err:
            if failed_for_good(err) is None:
                raise
            await park(
                f"alarm:{alarm.event_id}",
                "alarm",
                err,
                alarm,
                event_id=alarm.event_id,
                key=alarm.device_id,
            )
            return None
        if complaint is not None and await open_case(complaint, key=alarm.device_id) is None:
            return None
        return complaint

    @staticmethod
    async def _resolve(alarm: DeviceAlarm) -> ComplaintReceived | None:
        return await local(AlarmActivities.resolve_alarm, alarm)
