"""The Order 36 part of `JointPunishmentWorkflow`: the institution's public credit
commitment, the grant re-checked under the lock, and the synchronous lifting of every member
department's measures, dispatched, acknowledged and chased like the measures themselves.

A mixin so that the two-tier workflow code stays as it was; the workflow takes this path
only behind `workflow.patched(ORDER_36)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM, Actor
    from models.credit import CreditPlan, JointPunishmentInput, JointPunishmentState
    from models.credit_repair import (
        AcknowledgeLifting,
        RecordCommitment,
        RepairConditions,
        RepairStep,
    )
    from models.credit_steps import CreditStage
    from models.credit_steps import CreditStepKind as Step
    from workflows.enforcement import texts
    from workflows.enforcement.credit import repair_rules
    from workflows.enforcement.credit.repair_activities import CreditRepairActivities
    from workflows.local import local
    from workflows.refusals import refuse

ORDER_36 = "order-36-credit-repair"


class Order36Repair:
    _s: JointPunishmentState
    _p: JointPunishmentInput | None
    _lock: asyncio.Lock

    # Provided by the workflow class.
    async def _wait(self, done: Callable[[], bool], until: datetime | None) -> bool:
        raise NotImplementedError

    async def _plan(self, stage: CreditStage) -> CreditPlan:
        raise NotImplementedError

    async def _repair_step(
        self,
        step: Step,
        actor: Actor,
        reason: str | None,
        pending: list[str] | None = None,
        due: datetime | None = None,
    ) -> None:
        await local(
            CreditRepairActivities.record_repair_step,
            RepairStep(
                entry_id=self._s.entry_id,
                step=step,
                actor=actor,
                at=workflow.now(),
                reason=reason,
                pending=list(pending or []),
                due=due,
            ),
        )

    @workflow.update
    async def record_commitment(self, params: RecordCommitment) -> JointPunishmentState:
        async with self._lock:
            refuse(repair_rules.commitment(self._s, params.actor))
            await self._repair_step(Step.COMMITTED, params.actor, params.commitment)
            self._s.commitment = params.commitment
        return self._s

    @record_commitment.validator
    def _validate_record_commitment(self, params: RecordCommitment) -> None:
        refuse(repair_rules.commitment(self._s, params.actor))

    async def _check_grant(self) -> None:
        """Under the lock, at the moment of the grant: the period, the commitment, and the
        legal duties as the database knows them now (a re-inspection may have failed since
        the request)."""
        assert self._p is not None
        refuse(repair_rules.grant(self._s, workflow.now()))
        outstanding = await local(
            CreditRepairActivities.repair_conditions, RepairConditions(case_id=self._p.case_id)
        )
        refuse(repair_rules.duties(outstanding))

    @workflow.update
    async def acknowledge_lifting(self, params: AcknowledgeLifting) -> JointPunishmentState:
        async with self._lock:
            refuse(repair_rules.lifting(self._s, params.actor))
            unit = params.actor.unit or ""
            self._s.lifting.remove(unit)
            self._s.lifted.append(unit)
            await self._repair_step(
                Step.LIFTING_ACKNOWLEDGED, params.actor, params.note, self._s.lifting
            )
        return self._s

    @acknowledge_lifting.validator
    def _validate_acknowledge_lifting(self, params: AcknowledgeLifting) -> None:
        refuse(repair_rules.lifting(self._s, params.actor))

    async def _lift(self, reason: str) -> None:
        """Publication has ended and sharing stopped: every department lifts its measures at
        once; the late ones are reminded, then the leading group office is told."""
        s = self._s
        lifting = await self._plan(CreditStage.LIFTING)
        assert s.plan is not None
        s.plan.lift_by, s.plan.lift_final_by = lifting.lift_by, lifting.lift_final_by
        async with self._lock:
            s.lifting = list(lifting.departments)
            await self._repair_step(Step.LIFTING, SYSTEM, reason, s.lifting, lifting.lift_by)
        if not await self._wait(lambda: not s.lifting, lifting.lift_by):
            async with self._lock:
                await self._repair_step(
                    Step.LIFTING_REMINDED,
                    SYSTEM,
                    texts.UNLIFTED_REMINDED,
                    s.lifting,
                    lifting.lift_final_by,
                )
                s.lifting_reminded = True
            if not await self._wait(lambda: not s.lifting, lifting.lift_final_by):
                async with self._lock:
                    await self._repair_step(
                        Step.LIFTING_ESCALATED,
                        SYSTEM,
                        texts.UNLIFTED_ESCALATED,
                        s.lifting,
                    )
                    s.lifting_escalated = True
                await workflow.wait_condition(lambda: not s.lifting)
        async with self._lock:
            await self._repair_step(Step.LIFTED, SYSTEM, texts.ALL_LIFTED)
