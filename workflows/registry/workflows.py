"""Registry workflows: one long-lived workflow per institution that applies its events in
the order of the topic, the short workflow a staff check over HTTP waits on, the face-match
check, and the employment re-check that a yearly Temporal Schedule (and every new ban)
starts."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.camera import FaceMatch
    from models.complaints import ComplaintReceived
    from models.registry import RegistryCommand, RegistryStream, StaffCheckResult, registry_key
    from models.workflow_io import RecheckEmployment
    from workflows.local import RETRY, local
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, open_case, park
    from workflows.registry.activities import RegistryActivities

SEEN_KEPT = 1000  # event ids remembered across continue-as-new, for replays of the topic
# workflow.patched: histories from before the stream stopped waiting on face matches
FACE_MATCH_OPENS_CASE = "face-match-opens-its-case"


@workflow.defn
class InstitutionRegistryWorkflow:
    """One institution's registry events, applied one at a time in the order received: the
    stream signals them (signal-with-start, id from the institution) and goes on, and a
    hire is still applied before that person's manager change. An event that fails for good
    is parked and the next one applied."""

    def __init__(self) -> None:
        self._queue: list[RegistryCommand] = []
        self._seen: list[str] = []
        self._applied = 0

    @workflow.signal
    def event(self, command: RegistryCommand) -> None:
        if command.event_id in self._seen or any(
            q.event_id == command.event_id for q in self._queue
        ):
            return
        self._queue.append(command)

    @workflow.run
    async def run(self, params: RegistryStream) -> None:
        self._seen = [*params.seen, *self._seen]
        # Signals delivered with the start were checked before `seen` was known.
        self._queue = [q for q in [*params.pending, *self._queue] if q.event_id not in self._seen]
        while True:
            await workflow.wait_condition(
                lambda: bool(self._queue) or self._applied >= params.events_per_run
            )
            suggested = workflow.info().is_continue_as_new_suggested()
            if self._applied >= params.events_per_run or suggested:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    RegistryStream(
                        key=params.key,
                        seen=self._seen[-SEEN_KEPT:],
                        pending=self._queue,
                        events_per_run=params.events_per_run,
                    )
                )
            command = self._queue[0]
            try:
                await local(RegistryActivities.apply_registry_event, command)
            except ACTIVITY_FAILED as err:
                if failed_for_good(err) is None:
                    raise
                await park(
                    f"registry:{command.event_id}",
                    "registry",
                    err,
                    command,
                    event_id=command.event_id,
                    key=registry_key(command),
                )
            self._queue.pop(0)
            self._seen = [*self._seen, command.event_id][-SEEN_KEPT:]
            self._applied += 1


@workflow.defn
class RegistryEventWorkflow:
    @workflow.run
    async def run(self, command: RegistryCommand) -> StaffCheckResult | None:
        return await local(RegistryActivities.apply_registry_event, command)


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
        """A banned person opens a critical case, started from here as a child."""
        if not workflow.patched(FACE_MATCH_OPENS_CASE):
            return await local(RegistryActivities.check_face_match, match)
        try:
            complaint = await local(RegistryActivities.check_face_match, match)
        except ACTIVITY_FAILED as err:
            if failed_for_good(err) is None:
                raise
            await park(
                f"face:{match.event_id}",
                "face-match",
                err,
                match,
                event_id=match.event_id,
                key=match.device_id,
            )
            return None
        if complaint is not None:
            await open_case(complaint, key=match.device_id)
        return complaint
