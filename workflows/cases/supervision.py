"""The case workflow's supervision orders (督办), as a mixin of `CaseWorkflow` (through
`WorkOrders` and `Escalation`): the leading office's order with comments and a deadline, and
the deadline as a timer of the case. Deterministic like the workflow itself; the rules are
in `workorder`.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM
    from models.case_actions import Supervise
    from models.cases import UnitRecordKind
    from models.notifications import NotificationKind
    from models.workflow_io import CaseState, NotificationSpec, SupervisionOrder, UnitRecordSpec
    from workflows.cases import rules, workorder
    from workflows.cases.steps import LEADING_OFFICE, CaseSteps
    from workflows.refusals import refuse

# workflow.patched: a supervision order's deadline is a timer; passing it unanswered flags the
# order (督办逾期), tells the unit and the leading office and counts against the unit.
SUPERVISION_TIMER = "supervision-order-timer"


class SupervisionOrders(CaseSteps):
    @workflow.update
    async def supervise(self, params: Supervise) -> CaseState:
        return await self._act(
            lambda: workorder.supervise(self._s, params.actor, params.due_by, workflow.now()),
            lambda: self._do_supervise(params),
        )

    @supervise.validator
    def _validate_supervise(self, params: Supervise) -> None:
        refuse(workorder.supervise(self._s, params.actor, params.due_by, workflow.now()))

    async def _do_supervise(self, params: Supervise) -> None:
        s = self._s
        unit = s.handler or ""
        s.supervisions.append(
            SupervisionOrder(
                seq=len(s.supervisions) + 1,
                unit=unit,
                comments=params.comments,
                due_by=params.due_by,
                at=workflow.now(),
                by=params.actor.label,
            )
        )
        await self._record(
            "case.supervised",
            params.actor,
            reason=params.comments,
            details={"unit": unit, "due_by": params.due_by, "seq": len(s.supervisions)},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.SUPERVISION,
                    recipient=unit,
                    note=params.comments,
                    due_at=params.due_by,
                )
            ],
            unit_records=[
                UnitRecordSpec(unit=unit, kind=UnitRecordKind.SUPERVISED, reason=params.comments)
            ],
        )

    def _open_orders(self) -> list[SupervisionOrder]:
        """Orders the handling unit has not answered yet and whose deadline has not fired; none
        for histories from before the timer (they keep replaying without it)."""
        s = self._s
        orders = [
            o
            for o in s.supervisions
            if o.answered_at is None and o.overdue_at is None and o.unit == s.handler
        ]
        if not orders or s.status not in rules.OPEN or not workflow.patched(SUPERVISION_TIMER):
            return []
        return orders

    def _supervision_due(self) -> datetime | None:
        return min((o.due_by for o in self._open_orders()), default=None)

    def _answer_orders(self) -> None:
        """The unit reported its result: its open orders are answered."""
        now = workflow.now()
        for order in self._s.supervisions:
            if order.answered_at is None and order.overdue_at is None:
                order.answered_at = now

    async def _fire_supervision(self) -> bool:
        """Flag the first order whose deadline has passed; False when none has."""
        now = workflow.now()
        due = [o for o in self._open_orders() if now >= o.due_by]
        if not due:
            return False
        order = due[0]
        order.overdue_at = now
        note = f"督办期限已到，仍未反馈办理结果（督办意见：{order.comments}），请立即办理并反馈。"
        await self._record(
            "case.supervision-overdue",
            SYSTEM,
            reason=note,
            details={"unit": order.unit, "due_by": order.due_by, "seq": order.seq},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.SUPERVISION, recipient=u, note=note, due_at=order.due_by
                )
                for u in dict.fromkeys([order.unit, LEADING_OFFICE])
            ],
            unit_records=[
                UnitRecordSpec(
                    unit=order.unit, kind=UnitRecordKind.SUPERVISION_OVERDUE, reason=note
                )
            ],
        )
        return True
