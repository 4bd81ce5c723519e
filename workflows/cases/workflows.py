"""The case workflow: one per case, from intake to closure. Deterministic: no I/O here.

The ladder (`ladder`, taken by `escalation`): the handling unit must accept by `accept_by`;
missing it sends a reminder (催办), missing it again, or missing `resolve_by`, takes the case
up a level (town → city lead department, with a record against the town; city → the leading
group office, which records a public notice and interview (通报约谈) against the failing
unit). Units act through updates; every step is persisted, audited and announced by the
`record_step` activity.

The class is put together from mixins by concern, each over the shared `steps.CaseSteps`:
`opening` (intake signals, opening, merging, direct answers), `escalation` (the ladder),
`actions` (officer actions), `orders` and `supervision` (12345 work orders, 督办), `moves`
(hand-down, take-over). This module holds the run loop and what arrives between steps
(joined cases, alarm storms, reused event ids).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM
    from models.camera import AlarmStorm
    from models.cases import CaseStatus
    from models.complaints import ComplaintReceived
    from models.notifications import NotificationKind
    from models.workflow_io import (
        CaseState,
        CaseWorkflowInput,
        JoinCase,
        NotificationSpec,
        ReusedEventId,
    )
    from workflows.cases import search
    from workflows.cases.actions import OfficerActions
    from workflows.cases.activities import CaseActivities
    from workflows.cases.escalation import Escalation
    from workflows.cases.moves import LevelMoves
    from workflows.cases.opening import Opening
    from workflows.local import local


@workflow.defn
class CaseWorkflow(Opening, Escalation, OfficerActions, LevelMoves):
    def __init__(self) -> None:
        self._pending: list[ComplaintReceived] = []
        self._joins: list[JoinCase] = []
        self._storms: list[AlarmStorm] = []
        self._reused: list[ReusedEventId] = []
        self._s = CaseState(case_id="")
        self._lock = asyncio.Lock()
        self._version = 0
        self._searchable: search.Values = {}

    # -- signals and queries (the complaint and join signals are `opening`'s) ---------------

    @workflow.signal
    def storm(self, storm: AlarmStorm) -> None:
        """An alarm storm's window closed: how many alarms the device sent in it."""
        if storm.event_id not in self._s.event_ids and storm not in self._storms:
            self._storms.append(storm)

    @workflow.query
    def state(self) -> CaseState:
        return self._s

    # -- the run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: CaseWorkflowInput) -> CaseState:
        if params.state is not None:
            self._s = params.state
        else:
            self._s = CaseState(case_id=params.case_id)
            await workflow.wait_condition(lambda: bool(self._pending))
            async with self._lock:
                await self._open(self._pending.pop(0))
            if self._s.status is None:  # the complaint could not be opened: parked
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self._s

        while self._s.status not in (CaseStatus.CLOSED, CaseStatus.MERGED):
            async with self._lock:
                await self._refuse_reused()
                await self._take_joins()
                await self._fire_due_deadlines()
            if self._s.status in (CaseStatus.CLOSED, CaseStatus.MERGED):
                break
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() > params.history_limit
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                async with self._lock:
                    await self._take_joins()
                workflow.continue_as_new(
                    CaseWorkflowInput(
                        case_id=params.case_id, state=self._s, history_limit=params.history_limit
                    )
                )
            due = self._next_deadline()
            seen = self._version
            timeout = None
            if due is not None:
                timeout = max((due - workflow.now()).total_seconds(), 0.001)
            try:
                await workflow.wait_condition(
                    lambda seen=seen: (
                        self._version != seen  # type: ignore[misc]
                        or bool(self._joins or self._storms or self._reused)
                    ),
                    timeout=timeout,
                )
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._refuse_reused()
        return self._s

    async def _refuse_reused(self) -> None:
        while self._reused:
            await local(CaseActivities.refuse_reused_event_id, self._reused.pop(0))

    async def _take_joins(self) -> None:
        while self._joins:
            join = self._joins.pop(0)
            if join.case_id in self._s.linked_cases:
                continue
            self._s.linked_cases.append(join.case_id)
            await self._record(
                "case.joined",
                SYSTEM,
                reason=f"同一机构同类投诉 {join.case_id} 并入本案",
                details={"linked_case": join.case_id, "event_id": join.event_id},
                notify=[
                    NotificationSpec(
                        kind=NotificationKind.LINKED,
                        recipient=u,
                        note=f"又收到同一机构同类投诉（{join.case_id}），已并入本案一并办理。",
                    )
                    for u in self._s.dispatched_to
                ],
            )
        while self._storms:
            storm = self._storms.pop(0)
            if storm.event_id in self._s.event_ids:
                continue
            self._s.event_ids.append(storm.event_id)
            seconds = int((storm.window_end - storm.window_start).total_seconds())
            await self._record(
                "case.alarm-storm",
                SYSTEM,
                reason=f"同一设备在 {seconds} 秒内报警 {storm.count} 次",
                details={
                    "count": storm.count,
                    "window_start": storm.window_start.isoformat(),
                    "window_end": storm.window_end.isoformat(),
                },
            )
