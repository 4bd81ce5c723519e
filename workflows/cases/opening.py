"""The case workflow's intake, as a mixin of `CaseWorkflow`: complaints and joins arrive as
signals (a repeat ignored, an event id reused with other content kept for refusal); the first
complaint opens the case (persisted and routed by the `open_case` activity), joins an open
duplicate, is answered at the desk (直接答复), or is parked when it cannot be opened.
Deterministic like the workflow itself.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM, Actor, Role
    from models.bounds import fingerprint
    from models.cases import CaseStatus, Outcome, workflow_id_for
    from models.complaints import ComplaintReceived
    from models.notifications import NotificationKind
    from models.workflow_io import JoinCase, NotificationSpec, OpenCaseInput, ReusedEventId
    from workflows.cases.activities import CaseActivities
    from workflows.cases.steps import PARK_FAILED_STEPS, CaseSteps
    from workflows.local import local
    from workflows.parking.park import ACTIVITY_FAILED, failed_for_good, park

PLANNED_AT_OPEN = "open-case-plans-first-round"  # workflow.patched: histories from before
REFUSE_REUSED = "refuse-reused-event-id"  # workflow.patched: a repeat with other content
# The complainant may travel encrypted, and two encryptions of one contact differ: a repeat
# of the same complaint is recognised by everything else.
NOT_FINGERPRINTED = {"complainant", "complainant_sealed"}


def _print(complaint: ComplaintReceived) -> str:
    return fingerprint(complaint, exclude=NOT_FINGERPRINTED)


class Opening(CaseSteps):
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
            opened = await local(CaseActivities.open_case, open_input)
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
                    Opening.join,
                    JoinCase(
                        case_id=s.case_id, event_id=first.event_id, occurred_at=first.occurred_at
                    ),
                )
                s.status, s.merged_into = CaseStatus.MERGED, opened.merged_into
                return
            except FailureError:
                # The open case closed in the meantime: this complaint opens its own.
                open_input.allow_merge = False
                opened = await local(CaseActivities.open_case, open_input)
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

    async def _answer_directly(self, first: ComplaintReceived) -> None:
        """A consultation answered at the desk: recorded and closed, never dispatched."""
        s, answer = self._s, first.direct_answer
        assert answer is not None
        now = workflow.now()
        s.status, s.direct_answer = CaseStatus.CLOSED, True
        s.outcome, s.findings, s.closed_at = Outcome.ANSWERED, answer.answer, now
        s.resolved_at = now
        operator = Actor(name=first.taken_by or "hotline", role=Role.OPERATOR)
        await self._record(
            "case.answered-directly",
            operator,
            reason=answer.answer,
            details={"knowledge_id": answer.knowledge_id},
        )
