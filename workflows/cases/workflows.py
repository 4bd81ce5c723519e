"""The case workflow: one per case, from intake to closure. Deterministic: no I/O here.

The ladder: the handling unit must accept by `accept_by`; missing it sends a reminder (催办),
missing it again, or missing `resolve_by`, takes the case up a level (town → city lead
department, with a record against the town; city → the leading group office, which records a
public notice and interview (通报约谈) against the failing unit). Units act through updates;
every step is persisted, audited and announced by the `record_step` activity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM, Actor
    from models.bounds import fingerprint
    from models.camera import AlarmStorm
    from models.case_actions import (
        AcceptCase,
        AddNote,
        CloseCase,
        HandDown,
        RecordFollowUp,
        RedoBy,
        Refusal,
        ReportResult,
        RequestAssistance,
        ReturnCase,
        TakeOver,
    )
    from models.cases import (
        CaseStatus,
        Level,
        Outcome,
        Priority,
        UnitRecordKind,
        workflow_id_for,
    )
    from models.complaints import ComplaintReceived
    from models.deadlines import PlanRound, RoundDeadlines
    from models.enforcement import EnforcementInput
    from models.notifications import NotificationKind
    from models.workflow_io import (
        CaseState,
        CaseWorkflowInput,
        HistoryEntry,
        JoinCase,
        NotificationSpec,
        OpenCaseInput,
        RecordStep,
        ReusedEventId,
        UnitRecordSpec,
    )
    from workflows.cases import rules, search, workorder
    from workflows.cases.activities import CaseActivities
    from workflows.cases.orders import WorkOrders
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, park
    from workflows.refusals import refuse

# Local activities: a database write and a Kafka produce each take milliseconds, and running
# them inside the workflow task spares the server an activity task per step.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
# The full history is in the audit trail; the workflow keeps the recent part for queries.
HISTORY_KEPT = 500
LEADING_OFFICE = "leading-office"
PLANNED_AT_OPEN = "open-case-plans-first-round"  # workflow.patched: histories from before
# workflow.patched: a step that fails for good is parked and flagged, and the case goes on
PARK_FAILED_STEPS = "park-failed-steps"
REFUSE_REUSED = "refuse-reused-event-id"  # workflow.patched: a repeat with other content
# The complainant may travel encrypted, and two encryptions of one contact differ: a repeat
# of the same complaint is recognised by everything else.
NOT_FINGERPRINTED = {"complainant", "complainant_sealed"}
RETURN_REVIEW = "return-goes-to-review"  # a return waits for the hotline centre's review
NOTICE_CLOCK = "notice-interview-keeps-a-clock"  # reminders after 通报约谈 until resolved
SEARCHABLE = "case-search-attributes"  # upserts the Temporal UI's search attributes
OPEN = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED)


@workflow.defn
class CaseWorkflow(WorkOrders):
    def __init__(self) -> None:
        self._pending: list[ComplaintReceived] = []
        self._joins: list[JoinCase] = []
        self._storms: list[AlarmStorm] = []
        self._reused: list[ReusedEventId] = []
        self._s = CaseState(case_id="")
        # Updates and timers change the state one at a time: each step awaits an activity.
        self._lock = asyncio.Lock()
        self._version = 0
        self._searchable: search.Values = {}

    # -- signals and queries -----------------------------------------------------------------

    @workflow.signal
    def complaint(self, complaint: ComplaintReceived) -> None:
        # The same event may arrive twice (a replayed topic, a retried hand-off).
        if complaint.event_id in self._s.event_ids or any(
            p.event_id == complaint.event_id for p in self._pending
        ):
            # Another event under the same id must not vanish silently.
            first = next(
                (_print(p) for p in self._pending if p.event_id == complaint.event_id),
                self._s.fingerprint,
            )
            seen = _print(complaint)
            if (
                first is not None
                and seen != first
                and all(r.fingerprint != seen for r in self._reused)
                and workflow.patched(REFUSE_REUSED)
            ):
                self._reused.append(
                    ReusedEventId(
                        case_id=self._s.case_id,
                        complaint=complaint,
                        fingerprint=seen,
                        first_fingerprint=first,
                    )
                )
            return
        self._pending.append(complaint)

    @workflow.signal
    def join(self, join: JoinCase) -> None:
        if join.case_id not in self._s.linked_cases and join not in self._joins:
            self._joins.append(join)

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
            await self._local(CaseActivities.refuse_reused_event_id, self._reused.pop(0))

    async def _open(self, first: ComplaintReceived) -> None:
        s = self._s
        s.event_ids.append(first.event_id)
        s.fingerprint = _print(first)
        opened_at = workflow.now()
        open_input = OpenCaseInput(
            case_id=s.case_id,
            workflow_id=workflow.info().workflow_id,
            complaint=first,
            now=opened_at,
        )
        try:
            opened = await self._local(CaseActivities.open_case, open_input)
        except ACTIVITY_FAILED as err:
            if failed_for_good(err) is None or not workflow.patched(PARK_FAILED_STEPS):
                raise
            # Contact details stay out of the dead letter; the tracking code still finds
            # the parked complaint (by case id) for the leading office.
            s.parked.append("open")
            await park(
                "open",
                "complaint",
                err,
                first.model_dump_json(exclude={"complainant"}),
                event_id=first.event_id,
                case_id=s.case_id,
                key=first.event_id,
            )
            return
        if opened.merged_into is not None:
            try:
                await workflow.get_external_workflow_handle(
                    workflow_id_for(opened.merged_into)
                ).signal(
                    CaseWorkflow.join,
                    JoinCase(
                        case_id=s.case_id, event_id=first.event_id, occurred_at=first.occurred_at
                    ),
                )
                s.status, s.merged_into = CaseStatus.MERGED, opened.merged_into
                return
            except FailureError:
                # The open case closed in the meantime: this complaint opens its own.
                open_input.allow_merge = False
                opened = await self._local(CaseActivities.open_case, open_input)
        routing = opened.routing
        s.category, s.priority, s.anonymous = first.category, routing.priority, first.anonymous
        s.received_at = first.occurred_at
        s.town, s.lead = routing.town, routing.lead
        s.related_to = opened.related_to
        if first.direct_answer is not None:
            await self._answer_directly(first)
            return
        s.collaborators = routing.collaborators
        # Cases opened before open_case planned the first round plan it in a step of their own.
        if workflow.patched(PLANNED_AT_OPEN) and opened.deadlines is not None:
            await self._start_round(
                routing.handler, routing.level, planned=(opened_at, opened.deadlines)
            )
        else:
            await self._start_round(routing.handler, routing.level)
        s.dispatched_at = workflow.now()
        # A report about a case already done opens this one, linked to it: both sets of units
        # are told (the notifications are the step's data; the commands are unchanged).
        related = f"该机构同类问题前案 {s.related_to} 已反馈结果或办结，本次另立新案办理。"
        notify = [
            NotificationSpec(
                kind=NotificationKind.DISPATCH, recipient=u, note=related if s.related_to else None
            )
            for u in s.dispatched_to
        ]
        notify += [
            NotificationSpec(kind=NotificationKind.LINKED, recipient=u, note=related)
            for u in opened.related_units
            if u not in s.dispatched_to
        ]
        await self._record(
            "case.dispatched",
            SYSTEM,
            details={
                "handler": s.handler,
                "level": s.level,
                "to": s.dispatched_to,
                "related_to": s.related_to,
            },
            notify=notify,
            new_round=True,
        )

    # -- deadlines ---------------------------------------------------------------------------

    def _next_deadline(self) -> Any:
        s, d = self._s, self._s.deadlines
        candidates = []
        if s.status is CaseStatus.DISPATCHED and s.return_pending is None:
            candidates.append(d.accept_final_by if s.reminded else d.accept_by)
        if s.status in OPEN:
            candidates.append(d.resolve_by)
        if s.supervisions:
            candidates.append(self._supervision_due())
        return min((c for c in candidates if c is not None), default=None)

    async def _fire_due_deadlines(self) -> None:
        """Take every step whose deadline has passed, oldest first (a worker may come back
        after an outage with several due at once)."""
        while True:
            s, d, now = self._s, self._s.deadlines, workflow.now()
            # While a return is being reviewed the unit is not asked to accept.
            waiting = s.status is CaseStatus.DISPATCHED and s.return_pending is None
            if waiting and not s.reminded and _passed(d.accept_by, now):
                await self._remind()
            elif waiting and s.reminded and _passed(d.accept_final_by, now):
                await self._escalate("逾期未签收", "acceptance-overdue")
            elif s.status in OPEN and _passed(d.resolve_by, now):
                await self._escalate("逾期未办结", "resolution-overdue")
            elif not (s.supervisions and await self._fire_supervision()):
                return

    async def _remind(self) -> None:
        s = self._s
        s.reminded = True
        await self._record(
            "case.reminded",
            SYSTEM,
            reason="超过签收时限未签收",
            details={"unit": s.handler, "accept_by": s.deadlines.accept_by},
            notify=[NotificationSpec(kind=NotificationKind.REMINDER, recipient=s.handler or "")],
        )

    async def _escalate(self, why: str, code: str) -> None:
        s = self._s
        failing = s.handler or ""
        if s.level is Level.TOWN:
            if failing not in s.collaborators:
                s.collaborators.append(failing)  # the town stays on the ground
            await self._start_round(s.lead[0], Level.CITY, escalated=True)
            s.escalated = True
            await self._record(
                "case.escalated",
                SYSTEM,
                reason=f"{failing} {why}，升级至市级牵头部门",
                details={"from": failing, "to": s.handler, "cause": code},
                notify=[
                    NotificationSpec(
                        kind=NotificationKind.ESCALATION, recipient=s.handler or "", note=why
                    ),
                    NotificationSpec(kind=NotificationKind.WITHDRAWN, recipient=failing, note=why),
                ],
                unit_records=[
                    UnitRecordSpec(unit=failing, kind=UnitRecordKind.ESCALATED, reason=why)
                ],
                new_round=True,
                round_end_reason="escalated",
            )
            return
        if s.level is Level.LEADING_OFFICE:
            await self._notice_reminder()  # only reached with NOTICE_CLOCK
            return
        # At the city: the leading group office supervises; the handler keeps the case.
        s.level = Level.LEADING_OFFICE
        s.deadlines = RoundDeadlines()
        if workflow.patched(NOTICE_CLOCK):
            s.deadlines = await self._notice_clock()
        await self._record(
            "case.notice-interview",
            SYSTEM,
            reason=f"{failing} {why}，报领导小组办公室通报约谈",
            details={"unit": failing, "cause": code},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.NOTICE_INTERVIEW, recipient=LEADING_OFFICE, note=why
                ),
                NotificationSpec(
                    kind=NotificationKind.NOTICE_INTERVIEW, recipient=failing, note=why
                ),
            ],
            unit_records=[
                UnitRecordSpec(unit=failing, kind=UnitRecordKind.NOTICE_INTERVIEW, reason=why)
            ],
        )

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
            s.deadlines = await self._local(
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

    # -- actions -----------------------------------------------------------------------------

    @workflow.update
    async def accept(self, params: AcceptCase) -> CaseState:
        return await self._act(
            lambda: workorder.accept(self._s, params.actor), lambda: self._do_accept(params)
        )

    @accept.validator
    def _validate_accept(self, params: AcceptCase) -> None:
        refuse(workorder.accept(self._s, params.actor))

    async def _do_accept(self, params: AcceptCase) -> None:
        s = self._s
        s.status, s.accepted_at = CaseStatus.ACCEPTED, workflow.now()
        await self._record("case.accepted", params.actor, reason=params.note)

    @workflow.update
    async def return_case(self, params: ReturnCase) -> CaseState:
        return await self._act(self._return_rule(params), lambda: self._do_return(params))

    @return_case.validator
    def _validate_return(self, params: ReturnCase) -> None:
        refuse(self._return_rule(params)())

    def _return_rule(self, params: ReturnCase) -> Callable[[], Refusal | None]:
        return lambda: workorder.return_case(self._s, params.actor, workflow.now(), params.to_unit)

    async def _do_return(self, params: ReturnCase) -> None:
        if workflow.patched(RETURN_REVIEW):
            await self._request_return(params)
            return
        s = self._s
        returning = s.handler or ""
        s.returned_by.append(returning)
        if params.to_unit is not None:
            await self._start_round(params.to_unit, Level.TOWN)
        else:
            await self._start_round(s.lead[0], Level.CITY)
        await self._record(
            "case.returned",
            params.actor,
            reason=params.reason,
            details={"from": returning, "to": s.handler},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.DISPATCH,
                    recipient=s.handler or "",
                    note=f"{returning} 退回，理由：{params.reason}",
                )
            ],
            new_round=True,
            round_end_reason="returned",
        )

    @workflow.update
    async def note(self, params: AddNote) -> CaseState:
        return await self._act(
            lambda: rules.note(self._s, params.actor),
            lambda: self._record("case.note", params.actor, reason=params.text),
        )

    @note.validator
    def _validate_note(self, params: AddNote) -> None:
        refuse(rules.note(self._s, params.actor))

    @workflow.update
    async def assist(self, params: RequestAssistance) -> CaseState:
        return await self._act(
            lambda: rules.assist(self._s, params.actor, params.unit),
            lambda: self._do_assist(params),
        )

    @assist.validator
    def _validate_assist(self, params: RequestAssistance) -> None:
        refuse(rules.assist(self._s, params.actor, params.unit))

    async def _do_assist(self, params: RequestAssistance) -> None:
        self._s.assisting.append(params.unit)
        await self._record(
            "case.assistance-requested",
            params.actor,
            reason=params.reason,
            details={"unit": params.unit},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.ASSISTANCE, recipient=params.unit, note=params.reason
                )
            ],
        )

    @workflow.update
    async def report_result(self, params: ReportResult) -> CaseState:
        return await self._act(
            lambda: rules.report_result(self._s, params.actor), lambda: self._do_result(params)
        )

    @report_result.validator
    def _validate_result(self, params: ReportResult) -> None:
        refuse(rules.report_result(self._s, params.actor))

    async def _do_result(self, params: ReportResult) -> None:
        s = self._s
        s.status, s.resolved_at = CaseStatus.RESOLVED, workflow.now()
        s.outcome, s.findings, s.result_unit = params.outcome, params.findings, s.handler
        self._answer_orders()
        await self._record(
            "case.resolved",
            params.actor,
            reason=params.findings,
            details={
                "outcome": params.outcome,
                "persons": [p.id_masked for p in params.persons],
            },
        )
        if params.outcome in SUBSTANTIATED and s.enforcement is None:
            await self._start_enforcement(params)

    async def _start_enforcement(self, params: ReportResult) -> None:
        """Sanctions, bans and joint punishment outlive the case: a workflow of their own."""
        s = self._s
        assert s.category is not None and s.received_at is not None and s.town is not None
        s.enforcement = f"enforcement-{s.case_id}"
        await workflow.start_child_workflow(
            "EnforcementWorkflow",
            EnforcementInput(
                case_id=s.case_id,
                category=s.category,
                outcome=params.outcome,
                findings=params.findings,
                town=s.town,
                lead=s.lead,
                persons=params.persons,
                abuse_at=s.received_at,
            ),
            id=s.enforcement,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    @workflow.update
    async def close(self, params: CloseCase) -> CaseState:
        return await self._act(
            lambda: rules.close(self._s, params.actor),
            lambda: self._do_close(params.actor, params.reason),
        )

    @close.validator
    def _validate_close(self, params: CloseCase) -> None:
        refuse(rules.close(self._s, params.actor))

    async def _do_close(self, actor: Actor, reason: str) -> None:
        s = self._s
        s.status, s.closed_at = CaseStatus.CLOSED, workflow.now()
        await self._record("case.closed", actor, reason=reason, round_end_reason="closed")

    @workflow.update
    async def follow_up(self, params: RecordFollowUp) -> CaseState:
        return await self._act(
            lambda: workorder.follow_up(self._s, params.actor, params.redo_by),
            lambda: self._do_follow_up(params),
        )

    @follow_up.validator
    def _validate_follow_up(self, params: RecordFollowUp) -> None:
        refuse(workorder.follow_up(self._s, params.actor, params.redo_by))

    async def _do_follow_up(self, params: RecordFollowUp) -> None:
        s = self._s
        s.satisfied, s.followed_up_at = params.satisfied, workflow.now()
        s.follow_up_rating, s.problem_solved = params.rating, params.resolved
        await self._record(
            "case.followed-up",
            params.actor,
            reason=params.comment,
            details={
                "satisfied": params.satisfied,
                "rating": params.rating,
                "resolved": params.resolved,
                "result_unit": s.result_unit,
            },
        )
        if params.satisfied:
            await self._do_close(params.actor, "回访满意，办结")
        elif s.reopened == 0 and params.redo_by is RedoBy.SAME_UNIT:
            await self._redo_same_unit(params)
        elif s.reopened == 0:
            # A dissatisfied complainant reopens the case once, to the city lead department.
            s.reopened += 1
            s.satisfied = s.follow_up_rating = s.problem_solved = None
            await self._start_round(s.lead[0], Level.CITY)
            await self._record(
                "case.reopened",
                params.actor,
                reason=params.comment or "回访不满意",
                details={"to": s.handler},
                notify=[
                    NotificationSpec(
                        kind=NotificationKind.DISPATCH,
                        recipient=s.handler or "",
                        note=f"群众回访不满意，重新办理。{params.comment or ''}",
                    )
                ],
                new_round=True,
                round_end_reason="reopened",
            )
        else:
            await self._do_close(params.actor, "回访仍不满意，已重新办理一次，依规办结")

    @workflow.update
    async def hand_down(self, params: HandDown) -> CaseState:
        return await self._act(
            lambda: rules.hand_down(self._s, params.actor, params.unit),
            lambda: self._do_hand_down(params),
        )

    @hand_down.validator
    def _validate_hand_down(self, params: HandDown) -> None:
        refuse(rules.hand_down(self._s, params.actor, params.unit))

    async def _do_hand_down(self, params: HandDown) -> None:
        s = self._s
        previous = s.handler or ""
        await self._start_round(params.unit, Level.TOWN)
        notify = [
            NotificationSpec(
                kind=NotificationKind.DISPATCH, recipient=params.unit, note=params.reason
            )
        ]
        if previous not in s.lead:
            notify.append(
                NotificationSpec(
                    kind=NotificationKind.WITHDRAWN, recipient=previous, note=params.reason
                )
            )
        await self._record(
            "case.handed-down",
            params.actor,
            reason=params.reason,
            details={"from": previous, "to": params.unit},
            notify=notify,
            new_round=True,
            round_end_reason="handed-down",
        )

    @workflow.update
    async def take_over(self, params: TakeOver) -> CaseState:
        return await self._act(
            lambda: rules.take_over(self._s, params.actor), lambda: self._do_take_over(params)
        )

    @take_over.validator
    def _validate_take_over(self, params: TakeOver) -> None:
        refuse(rules.take_over(self._s, params.actor))

    async def _do_take_over(self, params: TakeOver) -> None:
        s = self._s
        previous = s.handler or ""
        if s.level is Level.TOWN and previous not in s.collaborators:
            s.collaborators.append(previous)
        await self._start_round(params.actor.unit or "", Level.CITY, accepted=True)
        await self._record(
            "case.taken-over",
            params.actor,
            reason=params.reason,
            details={"from": previous, "to": s.handler},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.WITHDRAWN, recipient=previous, note=params.reason
                )
            ],
            new_round=True,
            round_end_reason="taken-over",
        )

    # -- plumbing ----------------------------------------------------------------------------

    async def _act(
        self, rule: Callable[[], Refusal | None], step: Callable[[], Awaitable[None]]
    ) -> CaseState:
        async with self._lock:
            # Checked again: the state may have moved on since the validator ran.
            refuse(rule())
            await step()
        return self._s

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
            await self._local(CaseActivities.record_step, step)
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

    async def _local(self, method: Any, arg: Any) -> Any:
        return await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )


def _print(complaint: ComplaintReceived) -> str:
    return fingerprint(complaint, exclude=NOT_FINGERPRINTED)


def _passed(deadline: Any, now: Any) -> bool:
    return deadline is not None and now >= deadline
