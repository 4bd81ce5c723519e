"""The case workflow's moves between levels, as a mixin of `CaseWorkflow`: the city lead
department hands a case down to a town (交办) or takes it over from the handler (提级办理).
Deterministic like the workflow itself; the rules are in `rules`.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_actions import HandDown, TakeOver
    from models.cases import Level
    from models.notifications import NotificationKind
    from models.workflow_io import CaseState, NotificationSpec
    from workflows.cases import rules
    from workflows.cases.steps import CaseSteps
    from workflows.refusals import refuse


class LevelMoves(CaseSteps):
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
