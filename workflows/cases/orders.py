"""The case workflow's work-order steps (12345 hotline rules), as a mixin of `CaseWorkflow`:
return review (退单审核), extensions (延期申请) and redo by the same unit (重办); supervision
orders (督办) are in `supervision`, the reminder cycle after 通报约谈 in `escalation`, direct
answers at the desk (直接答复) in `opening`.
Deterministic like the workflow itself; the rules are in `workorder`.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import Actor
    from models.case_actions import (
        DecideExtension,
        RecordFollowUp,
        RequestExtension,
        ReturnCase,
        ReviewReturn,
    )
    from models.cases import Level
    from models.notifications import NotificationKind
    from models.workflow_io import (
        CaseState,
        DeadlineAfter,
        ExtensionRequest,
        NotificationSpec,
        ReturnRequest,
    )
    from workflows.cases import workorder
    from workflows.cases.activities import CaseActivities
    from workflows.cases.steps import LEADING_OFFICE
    from workflows.cases.supervision import SupervisionOrders
    from workflows.local import local
    from workflows.refusals import refuse


class WorkOrders(SupervisionOrders):
    @workflow.query
    def allowed_actions(self, actor: Actor) -> list[str]:
        """What `actor` may do now: the validators' own rules (the pages show these buttons)."""
        return workorder.allowed_actions(self._s, actor, workflow.now())

    # -- 退单审核 ------------------------------------------------------------------------------

    async def _request_return(self, params: ReturnCase) -> None:
        """The return waits for the hotline centre (a second one for the leading office); the
        unit keeps the case and its clock meanwhile."""
        s = self._s
        s.returns += 1
        reviewer = workorder.reviewer_for(s)
        s.return_pending = ReturnRequest(
            unit=s.handler or "",
            reason=params.reason,
            to_unit=params.to_unit,
            at=workflow.now(),
            reviewer=reviewer,
        )
        recipient = LEADING_OFFICE if reviewer == LEADING_OFFICE else workorder.HOTLINE_UNIT
        who = "领导小组办公室审定" if reviewer == LEADING_OFFICE else "12345热线中心审核"
        await self._record(
            "case.return-requested",
            params.actor,
            reason=params.reason,
            details={"from": s.handler, "to_unit": params.to_unit, "reviewer": reviewer},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.RETURN_REVIEW,
                    recipient=recipient,
                    note=f"{s.handler} 申请退单（第 {s.returns} 次），理由：{params.reason}。"
                    f"请{who}。",
                )
            ],
        )

    @workflow.update
    async def review_return(self, params: ReviewReturn) -> CaseState:
        return await self._act(
            lambda: workorder.review_return(self._s, params.actor, params.approve, params.to_unit),
            lambda: self._do_review(params),
        )

    @review_return.validator
    def _validate_review(self, params: ReviewReturn) -> None:
        refuse(workorder.review_return(self._s, params.actor, params.approve, params.to_unit))

    async def _do_review(self, params: ReviewReturn) -> None:
        s = self._s
        pending = s.return_pending
        assert pending is not None
        s.return_pending = None
        if not params.approve:
            await self._record(
                "case.return-rejected",
                params.actor,
                reason=params.reason,
                details={"unit": pending.unit},
                notify=[
                    NotificationSpec(
                        kind=NotificationKind.RETURN_REVIEW,
                        recipient=pending.unit,
                        note=f"退单申请未通过：{params.reason}。请签收并按时办理。",
                    )
                ],
            )
            return
        s.returned_by.append(pending.unit)
        target = params.to_unit or pending.to_unit
        before = s.deadlines
        if target is not None:
            await self._start_round(target, Level.TOWN)
        else:
            await self._start_round(s.lead[0], Level.CITY)
        s.deadlines = workorder.keep_clock(s.deadlines, before)
        await self._record(
            "case.returned",
            params.actor,
            reason=params.reason,
            details={"from": pending.unit, "to": s.handler, "return_reason": pending.reason},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.DISPATCH,
                    recipient=s.handler or "",
                    note=f"改派：{pending.unit} 退回（退单），理由：{pending.reason}；"
                    f"审核意见：{params.reason}",
                ),
                NotificationSpec(
                    kind=NotificationKind.WITHDRAWN, recipient=pending.unit, note=params.reason
                ),
            ],
            new_round=True,
            round_end_reason="returned",
        )

    # -- 延期申请 ------------------------------------------------------------------------------

    @workflow.update
    async def request_extension(self, params: RequestExtension) -> CaseState:
        return await self._act(
            lambda: workorder.request_extension(
                self._s, params.actor, params.working_days, params.cap_working_days
            ),
            lambda: self._do_request_extension(params),
        )

    @request_extension.validator
    def _validate_request_extension(self, params: RequestExtension) -> None:
        refuse(
            workorder.request_extension(
                self._s, params.actor, params.working_days, params.cap_working_days
            )
        )

    async def _do_request_extension(self, params: RequestExtension) -> None:
        s = self._s
        s.extensions += 1
        s.extension_pending = ExtensionRequest(
            unit=s.handler or "",
            reason=params.reason,
            working_days=params.working_days,
            at=workflow.now(),
        )
        decider = s.lead[0] if s.lead and s.lead[0] != s.handler else LEADING_OFFICE
        await self._record(
            "case.extension-requested",
            params.actor,
            reason=params.reason,
            details={"working_days": params.working_days, "resolve_by": s.deadlines.resolve_by},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.EXTENSION,
                    recipient=decider,
                    note=f"{s.handler} 申请延期 {params.working_days} 个工作日，"
                    f"理由：{params.reason}。请审批。",
                )
            ],
        )

    @workflow.update
    async def decide_extension(self, params: DecideExtension) -> CaseState:
        return await self._act(
            lambda: workorder.decide_extension(self._s, params.actor),
            lambda: self._do_decide_extension(params),
        )

    @decide_extension.validator
    def _validate_decide_extension(self, params: DecideExtension) -> None:
        refuse(workorder.decide_extension(self._s, params.actor))

    async def _do_decide_extension(self, params: DecideExtension) -> None:
        s = self._s
        asked = s.extension_pending
        assert asked is not None
        s.extension_pending = None
        if params.approve and s.deadlines.resolve_by is not None:
            resolve_by = await local(
                CaseActivities.deadline_after,
                DeadlineAfter(start=s.deadlines.resolve_by, working_days=asked.working_days),
            )
            s.deadlines = s.deadlines.model_copy(update={"resolve_by": resolve_by})
        action = "case.extension-approved" if params.approve else "case.extension-refused"
        verdict = "同意延期" if params.approve else "不同意延期"
        await self._record(
            action,
            params.actor,
            reason=params.reason,
            details={"working_days": asked.working_days, "resolve_by": s.deadlines.resolve_by},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.EXTENSION,
                    recipient=asked.unit,
                    note=f"{verdict}：{params.reason}",
                    due_at=s.deadlines.resolve_by,
                )
            ],
        )

    # -- 重办 -------------------------------------------------------------------------------

    async def _redo_same_unit(self, params: RecordFollowUp) -> None:
        """Dissatisfied because of the unit's handling: back to the same unit, once."""
        s = self._s
        unit = s.result_unit or ""
        s.redone += 1
        s.reopened += 1
        s.satisfied = s.follow_up_rating = s.problem_solved = None
        await self._start_round(unit, Level.TOWN if unit == s.town else Level.CITY)
        await self._record(
            "case.redo",
            params.actor,
            reason=params.comment or "回访不满意，原承办单位重办",
            details={"to": unit},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.DISPATCH,
                    recipient=unit,
                    note="群众回访不满意，经研判系办理不到位，退回你单位重办。"
                    f"{params.comment or ''}",
                )
            ],
            new_round=True,
            round_end_reason="redo",
        )
