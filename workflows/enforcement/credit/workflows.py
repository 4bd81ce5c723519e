"""`JointPunishmentWorkflow`: joint punishment through the credit platform, one per credit
entry (its id: `credit_entry_id(case)`), started by `EnforcementWorkflow` for a serious
violation: prior notice and objection window, review, entry on the platform with every member
department's measures, acknowledgments (reminded, then the leading group office told), and
the publicity period as a durable timer ending in removal; a credit repair may end it early.
Order 36 (`repair.py`) adds tiers, the commitment and the synchronous lifting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM, Actor
    from models.case_actions import Refusal
    from models.credit import (
        Acknowledge,
        CreditPlan,
        CreditStatus,
        CreditStep,
        JointPunishmentInput,
        JointPunishmentState,
        PlanCredit,
        RecordObjection,
        RequestRepair,
        Review,
    )
    from models.credit_repair import CreditTier
    from models.credit_steps import CreditStage
    from models.credit_steps import CreditStepKind as Step
    from workflows.enforcement import texts
    from workflows.enforcement.credit import repair_rules, rules
    from workflows.enforcement.credit.activities import CreditActivities
    from workflows.enforcement.credit.repair import ORDER_36, Order36Repair
    from workflows.enforcement.decisions.rules import lead
    from workflows.local import local
    from workflows.refusals import refuse


@workflow.defn
class JointPunishmentWorkflow(Order36Repair):
    def __init__(self) -> None:
        self._s = JointPunishmentState(entry_id="")
        self._p: JointPunishmentInput | None = None
        self._objection_upheld: bool | None = None
        self._repair_granted = False
        self._lock = asyncio.Lock()
        self._order36 = False
        self._found: datetime | None = None

    @workflow.query
    def state(self) -> JointPunishmentState:
        return self._s

    @workflow.run
    async def run(self, params: JointPunishmentInput) -> JointPunishmentState:
        self._p = params
        s = self._s = JointPunishmentState(entry_id=params.entry_id)
        # Order 36 (2026-04-01): three tiers, commitment, synchronous lifting. Entries
        # started under the two-tier rules keep them, and their recorded periods.
        self._order36 = workflow.patched(ORDER_36)
        self._found = workflow.now()
        s.plan = await self._plan(CreditStage.NOTICE)
        if self._order36:
            s.rules, s.tier = "order-36", s.plan.tier
            if s.tier is CreditTier.MINOR and params.publicity_months == 0:
                s.status = CreditStatus.NOT_PUBLISHED
                await self._repair_step(Step.NOT_PUBLISHED, params.decided_by, params.reason)
                return s
        await self._step(Step.NOTICED, params.decided_by, params.reason)

        if await self._wait(lambda: s.objection is not None, s.plan.objection_by):
            await workflow.wait_condition(lambda: self._objection_upheld is not None)
            if self._objection_upheld:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return s  # withdrawn, recorded by the review

        async with self._lock:
            s.plan = await self._plan(CreditStage.ENTRY)
            s.status = CreditStatus.PUBLISHED
            s.pending = list(s.plan.departments)
            await self._step(Step.PUBLISHED, params.decided_by, params.reason)

        # Order 36: a repair granted while departments are still being chased ends the entry
        # at once (the lifting is then chased instead).
        def answered() -> bool:
            return not s.pending or (self._order36 and self._repair_granted)

        if not await self._wait(answered, s.plan.acknowledge_by):
            async with self._lock:
                await self._step(Step.REMINDED, SYSTEM, texts.UNACKNOWLEDGED_REMINDED)
                s.reminded = True
            if not await self._wait(answered, s.plan.acknowledge_final_by):
                async with self._lock:
                    await self._step(Step.ESCALATED, SYSTEM, texts.UNACKNOWLEDGED_ESCALATED)
                    s.escalated = True

        # The publicity period: a durable timer; a granted credit repair ends it early.
        repaired = await self._wait(lambda: self._repair_granted, s.plan.publicity_until)
        async with self._lock:
            s.status = CreditStatus.REMOVED
            reason = texts.REMOVED_REPAIRED if repaired else texts.REMOVED_EXPIRED
            if self._order36:
                reason = texts.ENDED_REPAIRED if repaired else texts.ENDED_EXPIRED
            await self._step(Step.REMOVED, SYSTEM, reason, repaired=repaired)
        if self._order36:
            await self._lift(reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    async def _wait(self, done: Callable[[], bool], until: datetime | None) -> bool:
        """True once `done` holds; False when `until` passes first."""
        if done():
            return True
        seconds = (until - workflow.now()).total_seconds() if until else None
        if seconds is not None and seconds <= 0:
            return False
        try:
            await workflow.wait_condition(done, timeout=seconds)
        except TimeoutError:
            return done()
        return True

    async def _plan(self, stage: CreditStage) -> CreditPlan:
        assert self._p is not None
        plan = PlanCredit(
            start=workflow.now(),
            stage=stage,
            serious=self._p.serious,
            publicity_months=self._p.publicity_months,
        )
        if self._order36:
            plan.order36, plan.sanction, plan.decided_at = True, self._p.sanction, self._found
        return await local(CreditActivities.plan_credit, plan)

    def _serious(self) -> bool:
        assert self._p is not None
        return self._s.tier is CreditTier.SERIOUS if self._order36 else self._p.serious

    async def _step(
        self, step: Step, actor: Actor, reason: str | None, repaired: bool = False
    ) -> None:
        assert self._p is not None and self._s.plan is not None
        await local(
            CreditActivities.record_credit_step,
            CreditStep(
                entry_id=self._s.entry_id,
                step=step,
                actor=actor,
                at=workflow.now(),
                reason=reason,
                plan=self._s.plan,
                pending=list(self._s.pending),
                serious=self._serious(),
                legal_basis=self._p.legal_basis,
                order36=self._order36,
                repaired=repaired,
            ),
        )

    def _lead(self, actor: Actor) -> Refusal | None:
        return lead(actor, self._p.lead if self._p else [])

    async def _act(
        self, rule: Callable[[], Refusal | None], step: Callable[[], Awaitable[None]]
    ) -> JointPunishmentState:
        async with self._lock:
            refuse(rule())
            await step()
        return self._s

    @workflow.update
    async def object(self, params: RecordObjection) -> JointPunishmentState:
        return await self._act(
            lambda: rules.objection(self._s, params.actor, workflow.now()),
            lambda: self._object(params),
        )

    @object.validator
    def _validate_object(self, params: RecordObjection) -> None:
        refuse(rules.objection(self._s, params.actor, workflow.now()))

    async def _object(self, params: RecordObjection) -> None:
        self._s.objection, self._s.status = params.reason, CreditStatus.OBJECTED
        await self._step(Step.OBJECTED, params.actor, params.reason)

    @workflow.update
    async def review_objection(self, params: Review) -> JointPunishmentState:
        return await self._act(
            lambda: self._lead(params.actor) or rules.objection_review(self._s),
            lambda: self._review_objection(params),
        )

    @review_objection.validator
    def _validate_review_objection(self, params: Review) -> None:
        refuse(self._lead(params.actor) or rules.objection_review(self._s))

    async def _review_objection(self, params: Review) -> None:
        self._objection_upheld = params.upheld
        if params.upheld:
            self._s.status = CreditStatus.WITHDRAWN
            await self._step(Step.WITHDRAWN, params.actor, params.reason)
        else:
            self._s.status = CreditStatus.NOTICED
            await self._step(Step.OBJECTION_REJECTED, params.actor, params.reason)

    @workflow.update
    async def acknowledge(self, params: Acknowledge) -> JointPunishmentState:
        return await self._act(
            lambda: rules.acknowledgment(self._s, params.actor), lambda: self._acknowledge(params)
        )

    @acknowledge.validator
    def _validate_acknowledge(self, params: Acknowledge) -> None:
        refuse(rules.acknowledgment(self._s, params.actor))

    async def _acknowledge(self, params: Acknowledge) -> None:
        unit = params.actor.unit or ""
        self._s.pending.remove(unit)
        self._s.acknowledged.append(unit)
        await self._step(Step.ACKNOWLEDGED, params.actor, params.note)

    def _repair_rule(self, params: RequestRepair) -> Refusal | None:
        if self._order36:
            return repair_rules.repair(self._s, params.actor, workflow.now())
        return rules.repair(self._s, params.actor, workflow.now())

    @workflow.update
    async def request_repair(self, params: RequestRepair) -> JointPunishmentState:
        return await self._act(
            lambda: self._repair_rule(params), lambda: self._request_repair(params)
        )

    @request_repair.validator
    def _validate_request_repair(self, params: RequestRepair) -> None:
        refuse(self._repair_rule(params))

    async def _request_repair(self, params: RequestRepair) -> None:
        self._s.repair_request = params.reason
        await self._step(Step.REPAIR_REQUESTED, params.actor, params.reason)

    def _repair_review_rule(self, params: Review) -> Refusal | None:
        if self._order36:  # 谁认定、谁修复
            assert self._p is not None
            unit = self._p.decided_by.unit
            return repair_rules.finding_unit(params.actor, unit) or rules.repair_review(self._s)
        return self._lead(params.actor) or rules.repair_review(self._s)

    @workflow.update
    async def review_repair(self, params: Review) -> JointPunishmentState:
        return await self._act(
            lambda: self._repair_review_rule(params), lambda: self._review_repair(params)
        )

    @review_repair.validator
    def _validate_review_repair(self, params: Review) -> None:
        refuse(self._repair_review_rule(params))

    async def _review_repair(self, params: Review) -> None:
        if self._order36 and params.upheld:
            await self._check_grant()
        await self._step(Step.REPAIR_REVIEWED, params.actor, params.reason)
        if params.upheld:
            self._repair_granted = True
        else:
            self._s.repair_request = None  # may ask again later
