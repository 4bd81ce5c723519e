"""Enforcement after a substantiated case, and joint punishment through the credit platform.

`EnforcementWorkflow` (one per substantiated case, started by the case workflow): lifetime
bans for abuse, then the lead department's decisions, re-inspections and, for serious
violations, a `JointPunishmentWorkflow`: prior notice and objection window, review, entry on
the platform with every member department's measures, acknowledgments (reminded, then the
leading group office told), and the publicity period as a durable timer ending in removal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM, Actor
    from models.case_actions import Refusal
    from models.cases import Outcome
    from models.complaints import Category
    from models.credit import (
        Acknowledge,
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
    from models.enforcement import (
        CorrectBan,
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
    from workflows.enforcement import credit_rules, rules
    from workflows.enforcement.activities import EnforcementActivities
    from workflows.enforcement.credit_repair import ORDER_36, Order36Repair
    from workflows.refusals import refuse

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED)


async def _local(method: Any, arg: Any) -> Any:
    return await workflow.execute_local_activity_method(
        method, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
    )


def enforcement_id(case_id: str) -> str:
    return f"enforcement-{case_id}"


def credit_entry_id(case_id: str) -> str:
    return f"credit-{case_id}"


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
                    await _local(
                        EnforcementActivities.remind_reinspection,
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

    def _next_reinspection(self) -> tuple[str, Any] | None:
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
        self._s.bans = await _local(
            EnforcementActivities.issue_bans,
            IssueBans(
                case_id=params.case_id,
                persons=params.persons,
                abuse_at=params.abuse_at,
                decided_at=now,
                reason=f"虐童行为经查属实：{params.findings}",
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

    async def _act(self, rule: Callable[[], Refusal | None], step: Any) -> EnforcementState:
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
        rectify_by = await _local(
            EnforcementActivities.record_decision,
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
        involved = [*self._leads(), self._p.town if self._p else ""]
        if params.actor.unit not in involved and rules.lead(params.actor, []) is not None:
            return Refusal(
                code="not_involved",
                message="只有牵头部门或属地镇（街道）可以复查。",
                status=403,
            )
        return rules.reinspection(self._s, params.decision_id)

    async def _reinspect(self, params: Reinspect) -> None:
        await _local(
            EnforcementActivities.record_reinspection,
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


@workflow.defn
class JointPunishmentWorkflow(Order36Repair):
    def __init__(self) -> None:
        self._s = JointPunishmentState(entry_id="")
        self._p: JointPunishmentInput | None = None
        self._objection_upheld: bool | None = None
        self._repair_granted = False
        self._lock = asyncio.Lock()
        self._order36 = False
        self._found: Any = None

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
        s.plan = await self._plan("notice")
        if self._order36:
            s.rules, s.tier = "order-36", s.plan.tier
            if s.tier is CreditTier.MINOR and params.publicity_months == 0:
                s.status = CreditStatus.NOT_PUBLISHED
                await self._repair_step("not-published", params.decided_by, params.reason)
                return s
        await self._step("noticed", params.decided_by, params.reason)

        if await self._wait(lambda: s.objection is not None, s.plan.objection_by):
            await workflow.wait_condition(lambda: self._objection_upheld is not None)
            if self._objection_upheld:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return s  # withdrawn, recorded by the review

        async with self._lock:
            s.plan = await self._plan("entry")
            s.status = CreditStatus.PUBLISHED
            s.pending = list(s.plan.departments)
            await self._step("published", params.decided_by, params.reason)

        # Order 36: a repair granted while departments are still being chased ends the entry
        # at once (the lifting is then chased instead).
        def answered() -> bool:
            return not s.pending or (self._order36 and self._repair_granted)

        if not await self._wait(answered, s.plan.acknowledge_by):
            async with self._lock:
                await self._step("reminded", SYSTEM, "逾期未反馈措施落实情况")
                s.reminded = True
            if not await self._wait(answered, s.plan.acknowledge_final_by):
                async with self._lock:
                    await self._step("escalated", SYSTEM, "逾期仍未反馈，报领导小组办公室督办")
                    s.escalated = True

        # The publicity period: a durable timer; a granted credit repair ends it early.
        repaired = await self._wait(lambda: self._repair_granted, s.plan.publicity_until)
        async with self._lock:
            s.status = CreditStatus.REMOVED
            reason = "信用修复申请经审核同意，提前移出" if repaired else "公示期满，自动移出"
            if self._order36:
                reason = (
                    "信用修复申请经认定单位同意，终止公示、停止共享"
                    if repaired
                    else "最长公示期届满，自动停止公示、停止共享"
                )
            await self._step("removed", SYSTEM, reason, repaired=repaired)
        if self._order36:
            await self._lift(reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    async def _wait(self, done: Callable[[], bool], until: Any) -> bool:
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

    async def _plan(self, stage: str) -> Any:
        assert self._p is not None
        plan = PlanCredit(
            start=workflow.now(),
            stage=stage,
            serious=self._p.serious,
            publicity_months=self._p.publicity_months,
        )
        if self._order36:
            plan.order36, plan.sanction, plan.decided_at = True, self._p.sanction, self._found
        return await _local(EnforcementActivities.plan_credit, plan)

    def _serious(self) -> bool:
        assert self._p is not None
        return self._s.tier is CreditTier.SERIOUS if self._order36 else self._p.serious

    async def _step(
        self, step: str, actor: Actor, reason: str | None, repaired: bool = False
    ) -> None:
        assert self._p is not None and self._s.plan is not None
        await _local(
            EnforcementActivities.record_credit_step,
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
        return rules.lead(actor, self._p.lead if self._p else [])

    async def _act(self, rule: Callable[[], Refusal | None], step: Any) -> JointPunishmentState:
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
        await self._step("objected", params.actor, params.reason)

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
            await self._step("withdrawn", params.actor, params.reason)
        else:
            self._s.status = CreditStatus.NOTICED
            await self._step("objection-rejected", params.actor, params.reason)

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
        await self._step("acknowledged", params.actor, params.note)

    def _repair_rule(self, params: RequestRepair) -> Refusal | None:
        if self._order36:
            return credit_rules.repair(self._s, params.actor, workflow.now())
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
        await self._step("repair-requested", params.actor, params.reason)

    def _repair_review_rule(self, params: Review) -> Refusal | None:
        if self._order36:  # 谁认定、谁修复
            assert self._p is not None
            unit = self._p.decided_by.unit
            return credit_rules.finding_unit(params.actor, unit) or rules.repair_review(self._s)
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
        await self._step("repair-reviewed", params.actor, params.reason)
        if params.upheld:
            self._repair_granted = True
        else:
            self._s.repair_request = None  # may ask again later


@workflow.defn
class BanCorrectionWorkflow:
    """An authorised correction of a ban, run once per request (the id is the request's)."""

    @workflow.run
    async def run(self, params: CorrectBan) -> bool:
        params.at = workflow.now()
        found: bool = await _local(EnforcementActivities.correct_ban, params)
        return found
