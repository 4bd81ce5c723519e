"""The case workflow's officer actions, as a mixin of `CaseWorkflow`: accept (签收), return
(退回), note, request assistance, report the result (and start enforcement when substantiated),
close, and the complainant's follow-up (回访). Each is an update whose validator and handler
share one rule (`rules`, `workorder`). Deterministic like the workflow itself.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.actors import Actor
    from models.case_actions import (
        AcceptCase,
        AddNote,
        CloseCase,
        RecordFollowUp,
        RedoBy,
        Refusal,
        ReportResult,
        RequestAssistance,
        ReturnCase,
    )
    from models.cases import CaseStatus, Level, Outcome
    from models.enforcement import EnforcementInput, enforcement_workflow_id
    from models.notifications import NotificationKind
    from models.workflow_io import CaseState, NotificationSpec
    from workflows.cases import rules, workorder
    from workflows.cases.orders import WorkOrders
    from workflows.refusals import refuse

RETURN_REVIEW = "return-goes-to-review"  # a return waits for the hotline centre's review
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED)


class OfficerActions(WorkOrders):
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
        refuse(rules.persons_named(self._s, params.outcome, len(params.persons)))

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
        s.enforcement = enforcement_workflow_id(s.case_id)
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
