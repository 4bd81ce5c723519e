"""What every part of the case workflow shares, as the base of its mixins: the state, taking
an action under the lock, starting a round, and recording a step (persisted, audited and
announced by the `record_step` activity), with the Temporal UI's search attributes kept up.
Deterministic like the workflow itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import Actor
    from models.camera import AlarmStorm
    from models.case_actions import Refusal
    from models.cases import CaseStatus, Level, Priority
    from models.complaints import ComplaintReceived
    from models.deadlines import PlanRound, RoundDeadlines
    from models.workflow_io import (
        CaseState,
        HistoryEntry,
        JoinCase,
        NotificationSpec,
        RecordStep,
        ReusedEventId,
        UnitRecordSpec,
    )
    from workflows.cases import search
    from workflows.cases.activities import CaseActivities
    from workflows.local import local
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, park
    from workflows.refusals import refuse

# The full history is in the audit trail; the workflow keeps the recent part for queries.
HISTORY_KEPT = 500
LEADING_OFFICE = "leading-office"
# workflow.patched: a step that fails for good is parked and flagged, and the case goes on
PARK_FAILED_STEPS = "park-failed-steps"
SEARCHABLE = "case-search-attributes"  # upserts the Temporal UI's search attributes


class CaseSteps:
    """The state and the plumbing; `CaseWorkflow.__init__` sets the attributes."""

    _s: CaseState
    _pending: list[ComplaintReceived]
    _joins: list[JoinCase]
    _storms: list[AlarmStorm]
    _reused: list[ReusedEventId]
    # Updates and timers change the state one at a time: each step awaits an activity.
    _lock: asyncio.Lock
    _version: int  # bumped by every step: the run loop's wait wakes on it
    _searchable: search.Values

    if TYPE_CHECKING:
        # The ladder's (escalation.py): the search attribute shows the next deadline.
        def _next_deadline(self) -> datetime | None: ...

    async def _act(
        self, rule: Callable[[], Refusal | None], step: Callable[[], Awaitable[None]]
    ) -> CaseState:
        async with self._lock:
            # Checked again: the state may have moved on since the validator ran.
            refuse(rule())
            await step()
        return self._s

    async def _start_round(
        self,
        handler: str,
        level: Level,
        *,
        escalated: bool = False,
        accepted: bool = False,
        planned: tuple[datetime, RoundDeadlines] | None = None,
    ) -> None:
        """`planned`: the round's start and deadlines, if already planned."""
        s = self._s
        if planned is not None:
            now, s.deadlines = planned
        else:
            now = workflow.now()
            s.deadlines = await local(
                CaseActivities.plan_round,
                PlanRound(start=now, priority=s.priority or Priority.ORDINARY, escalated=escalated),
            )
        s.round += 1
        s.round_started_at = now
        s.handler, s.level = handler, level
        s.collaborators = [u for u in s.collaborators if u != handler]
        s.reminded = False
        # A new round (hand-down, take-over, escalation) settles what the last unit asked for.
        s.return_pending = s.extension_pending = None
        s.status = CaseStatus.ACCEPTED if accepted else CaseStatus.DISPATCHED
        s.accepted_at = now if accepted else None
        s.resolved_at = None
        s.outcome = s.findings = s.result_unit = None

    async def _record(
        self,
        action: str,
        actor: Actor,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        notify: list[NotificationSpec] | None = None,
        unit_records: list[UnitRecordSpec] | None = None,
        new_round: bool = False,
        round_end_reason: str | None = None,
    ) -> None:
        s, now = self._s, workflow.now()
        s.step += 1
        s.history.append(
            HistoryEntry(
                step=s.step,
                at=now,
                action=action,
                actor=actor.label,
                unit=actor.unit,
                reason=reason,
            )
        )
        del s.history[:-HISTORY_KEPT]
        # The activity gets a copy without the history: it grows, and the trail has it anyway.
        snapshot = CaseState.model_validate(
            s.model_dump(exclude={"history", "event_ids", "parked"})
        )
        step = RecordStep(
            state=snapshot,
            action=action,
            actor=actor,
            reason=reason,
            details=details or {},
            occurred_at=now,
            notifications=notify or [],
            unit_records=unit_records or [],
            new_round=new_round,
            round_end_reason=round_end_reason,
        )
        try:
            await local(CaseActivities.record_step, step)
        except ACTIVITY_FAILED as err:
            if failed_for_good(err) is None or not workflow.patched(PARK_FAILED_STEPS):
                raise
            # The workflow's state has taken the step; the trail has not. The leading office
            # is told, and the case goes on: a later step records the state as it is.
            s.parked.append(f"step-{s.step}")
            await park(
                f"step-{s.step}",
                "case-step",
                err,
                step,
                event_id=f"{s.case_id}:{s.step}",
                case_id=s.case_id,
                key=s.case_id,
            )
        self._version += 1
        self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        s = self._s
        if not workflow.patched(SEARCHABLE):
            return
        values: search.Values = {
            search.CASE_ID.name: s.case_id,
            search.CATEGORY.name: s.category,
            search.TOWN.name: s.town,
            search.HANDLER.name: s.handler,
            search.STATUS.name: s.status,
            search.PRIORITY.name: s.priority,
            search.DUE_AT.name: self._next_deadline(),
        }
        changed = search.updates(values, self._searchable)
        if changed:
            workflow.upsert_search_attributes(changed)
            self._searchable = values
