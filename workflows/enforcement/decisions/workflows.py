"""`EnforcementWorkflow`: enforcement after a substantiated case, one per case (its id:
`enforcement_workflow_id(case)`), started by the case workflow. Lifetime bans for abuse first
(`bans/`), then, as updates for as long as the case's consequences last, the lead
department's decisions, re-inspections of rectifications (an overdue one brought to the
deciding unit's and the town's attention once) and, for serious violations, the start of a
`JointPunishmentWorkflow` (`credit/`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.case_actions import Refusal
    from models.complaints import Category
    from models.credit import JointPunishmentInput, credit_entry_id
    from models.enforcement import (
        Decide,
        DecisionBody,
        EnforcementInput,
        EnforcementState,
        IssueBans,
        RecordDecision,
        RecordReinspection,
        Reinspect,
        ReinspectionBody,
        RemindReinspection,
        StartJointPunishment,
    )
    from models.workflow_io import RecheckEmployment
    from workflows.enforcement import texts
    from workflows.enforcement.bans.activities import BanActivities
    from workflows.enforcement.credit.workflows import JointPunishmentWorkflow
    from workflows.enforcement.decisions import rules
    from workflows.enforcement.decisions.activities import DecisionActivities
    from workflows.local import local
    from workflows.refusals import refuse

RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@workflow.defn
class EnforcementWorkflow:
    def __init__(self) -> None:
        self._s = EnforcementState(case_id="")
        self._p: EnforcementInput | None = None
        self._lock = asyncio.Lock()

    @workflow.query
    def state(self) -> EnforcementState:
        return self._s

    @workflow.run
    async def run(self, params: EnforcementInput) -> EnforcementState:
        self._p = params
        self._s = EnforcementState(case_id=params.case_id, decisions=params.decisions)
        async with self._lock:
            if params.category is Category.CHILD_ABUSE and params.persons:
                await self._ban(params)
        # Decisions, re-inspections and joint punishment arrive as updates, for as long as
        # the case's consequences last; a rectification left without re-inspection past its
        # deadline is brought to the deciding unit's and the town's attention once.
        while True:
            due = self._next_reinspection()
            moved = self._moved_since(self._progress())
            if due is None:
                await workflow.wait_condition(moved)
                continue
            decision_id, deadline = due
            wait = (deadline - workflow.now()).total_seconds()
            if wait > 0:
                try:
                    await workflow.wait_condition(moved, timeout=wait)
                    continue
                except TimeoutError:
                    pass
            async with self._lock:
                if decision_id in self._s.open_rectifications:
                    await local(
                        DecisionActivities.remind_reinspection,
                        RemindReinspection(
                            case_id=self._s.case_id,
                            decision_id=decision_id,
                            due=deadline,
                            at=workflow.now(),
                        ),
                    )
                self._s.reinspection_reminded.append(decision_id)

    def _progress(self) -> tuple[int, int]:
        return len(self._s.decisions), len(self._s.open_rectifications)

    def _moved_since(self, seen: tuple[int, int]) -> Callable[[], bool]:
        return lambda: self._progress() != seen

    def _next_reinspection(self) -> tuple[str, datetime] | None:
        pending = [
            (deadline, decision_id)
            for decision_id, deadline in self._s.open_rectifications.items()
            if decision_id not in self._s.reinspection_reminded
        ]
        if not pending:
            return None
        deadline, decision_id = min(pending)
        return decision_id, deadline

    async def _ban(self, params: EnforcementInput) -> None:
        now = workflow.now()
        self._s.bans = await local(
            BanActivities.issue_bans,
            IssueBans(
                case_id=params.case_id,
                persons=params.persons,
                abuse_at=params.abuse_at,
                decided_at=now,
                reason=texts.ABUSE_FOUND.format(findings=params.findings),
            ),
        )
        # Anyone just banned who is employed anywhere right now is reported at once.
        await workflow.execute_activity(
            "recheck_employment",
            RecheckEmployment(
                key=f"new-ban:{params.case_id}",
                at=now,
                reason="new-ban",
                person_hashes=sorted({b.person_hash for b in self._s.bans}),
                case_id=params.case_id,
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )

    def _leads(self) -> list[str]:
        return self._p.lead if self._p else []

    async def _act(
        self, rule: Callable[[], Refusal | None], step: Callable[[], Awaitable[None]]
    ) -> EnforcementState:
        async with self._lock:
            refuse(rule())
            await step()
        return self._s

    @workflow.update
    async def decide(self, params: Decide) -> EnforcementState:
        return await self._act(lambda: self._decision_rule(params), lambda: self._decide(params))

    @decide.validator
    def _validate_decide(self, params: Decide) -> None:
        refuse(self._decision_rule(params))

    def _decision_rule(self, params: Decide) -> Refusal | None:
        return rules.lead(params.actor, self._leads()) or rules.decision(params)

    async def _decide(self, params: Decide) -> None:
        decision_id = f"{self._s.case_id}:decision:{len(self._s.decisions) + 1}"
        rectify_by = await local(
            DecisionActivities.record_decision,
            RecordDecision(
                decision_id=decision_id,
                case_id=self._s.case_id,
                decision=DecisionBody.model_validate(params.model_dump(exclude={"actor"})),
                actor=params.actor,
                decided_at=workflow.now(),
            ),
        )
        self._s.decisions.append(decision_id)
        if rectify_by is not None:
            self._s.open_rectifications[decision_id] = rectify_by

    @workflow.update
    async def reinspect(self, params: Reinspect) -> EnforcementState:
        return await self._act(
            lambda: self._reinspection_rule(params), lambda: self._reinspect(params)
        )

    @reinspect.validator
    def _validate_reinspect(self, params: Reinspect) -> None:
        refuse(self._reinspection_rule(params))

    def _reinspection_rule(self, params: Reinspect) -> Refusal | None:
        town = self._p.town if self._p else ""
        return rules.reinspector(params.actor, self._leads(), town) or rules.reinspection(
            self._s, params.decision_id
        )

    async def _reinspect(self, params: Reinspect) -> None:
        await local(
            DecisionActivities.record_reinspection,
            RecordReinspection(
                case_id=self._s.case_id,
                reinspection=ReinspectionBody.model_validate(params.model_dump(exclude={"actor"})),
                actor=params.actor,
                at=workflow.now(),
            ),
        )
        del self._s.open_rectifications[params.decision_id]
        if not params.passed:
            # A failed re-inspection is escalated (by the activity's notices); the lead may
            # add sanctions with further decisions.
            self._s.failed_reinspections += 1

    @workflow.update
    async def joint_punishment(self, params: StartJointPunishment) -> EnforcementState:
        return await self._act(
            lambda: rules.lead(params.actor, self._leads()) or rules.joint_punishment(self._s),
            lambda: self._start_joint_punishment(params),
        )

    @joint_punishment.validator
    def _validate_joint_punishment(self, params: StartJointPunishment) -> None:
        refuse(rules.lead(params.actor, self._leads()) or rules.joint_punishment(self._s))

    async def _start_joint_punishment(self, params: StartJointPunishment) -> None:
        assert self._p is not None
        entry_id = credit_entry_id(self._s.case_id)
        await workflow.start_child_workflow(
            JointPunishmentWorkflow.run,
            JointPunishmentInput(
                entry_id=entry_id,
                case_id=self._s.case_id,
                serious=params.serious,
                publicity_months=params.publicity_months,
                sanction=params.sanction,
                reason=params.reason,
                legal_basis=params.legal_basis,
                lead=self._p.lead,
                town=self._p.town,
                decided_by=params.actor,
            ),
            id=entry_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._s.joint_punishment = entry_id
