"""Scenarios whose workflow histories are kept in `data/histories/` (see `record_history.py`).

Each scenario drives one workflow through the steps worth replaying and returns the handle of
the workflow whose history is written. The workflow may still be running: a replay of its
history so far checks every command it issued.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from infra.identity import IdentityHasher
from models.actors import Actor, Role
from models.case_actions import AcceptCase, AddNote, ReportResult, Supervise
from models.cases import Outcome
from models.credit import Acknowledge, RecordObjection, RequestRepair, Review, credit_entry_id
from models.credit_repair import AcknowledgeLifting, RecordCommitment
from models.enforcement import (
    CorrectBan,
    Decide,
    Reinspect,
    SanctionKind,
    StartJointPunishment,
    enforcement_workflow_id,
)
from models.institutions import Institution, Registrar
from models.people import PersonIdentity
from models.workflow_io import CaseState
from tests.case_env import LEADING_OFFICE, OPERATOR, TASK_QUEUE, CaseEnv, department, town
from tests.factories import person
from tests.polling import eventually
from tests.refusing import REFUSED_BY_DATABASE
from workflows.cases.starter import submit_complaint
from workflows.cases.workflows import CaseWorkflow
from workflows.enforcement.bans.workflows import BanCorrectionWorkflow
from workflows.enforcement.credit.workflows import JointPunishmentWorkflow
from workflows.enforcement.decisions.workflows import EnforcementWorkflow
from workflows.registry.workflows import EmploymentRecheckWorkflow

HASHER = IdentityHasher(b"k" * 32)
HEALTH = department("health")
Handle = WorkflowHandle[Any, Any]


@dataclass(frozen=True)
class Scenario:
    workflow_type: str
    description: str
    run: Callable[[CaseEnv], Awaitable[Handle]]


async def _register(case_env: CaseEnv, town_code: str = "street-ximen") -> str:
    institution_id = f"INST-{uuid.uuid4().hex[:8]}"
    with case_env.sessions() as session:
        session.add(
            Institution(
                id=institution_id,
                name=f"测试托育园{institution_id[-4:]}",
                town=town_code,
                registrar=Registrar.SAMR,
                registered_at=await case_env.now(),
            )
        )
        session.commit()
    return institution_id


async def _abuse(case_env: CaseEnv, persons: list[PersonIdentity]) -> tuple[str, Handle]:
    """A substantiated abuse case (lead: health); its enforcement workflow once started."""
    institution_id = await _register(case_env)
    _, handle = await case_env.open(category="child-abuse", institution_id=institution_id)
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=HEALTH))
    state = await handle.execute_update(
        CaseWorkflow.report_result,
        ReportResult(
            actor=HEALTH,
            outcome=Outcome.SUBSTANTIATED,
            findings="经调查，保育员多次殴打幼儿，情况属实。",
            persons=[HASHER.ref(p) for p in persons],
        ),
    )
    ef = case_env.client.get_workflow_handle(enforcement_workflow_id(state.case_id))
    await _until(ef, EnforcementWorkflow.state, lambda s: len(s.bans) >= len(persons))
    # The case is not in these histories; left running, its reminders would each be fired
    # (and recorded) by a skip of months. Its enforcement is abandoned, not ended, with it.
    await handle.terminate("its enforcement is what is recorded")
    return state.case_id, ef


async def _until(handle: Handle, query: Any, check: Callable[[Any], bool]) -> Any:
    """The queried state once `check` holds (the workflow may not have started yet)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            state = await handle.query(query)
            if check(state):
                return state
        except Exception:  # not started yet
            pass
        assert time.monotonic() < deadline, f"{handle.id} never matched"
        await asyncio.sleep(0.05)


async def enforcement(case_env: CaseEnv) -> Handle:
    case_id, ef = await _abuse(case_env, [person("李保育员")])
    decided = await ef.execute_update(
        EnforcementWorkflow.decide,
        Decide(
            actor=HEALTH,
            kind=SanctionKind.RECTIFICATION,
            legal_basis="《托育机构设置标准（试行）》",
            reason="限期整改",
            rectify_within_days=5,
        ),
    )
    [rectification] = decided.open_rectifications
    await case_env.pass_time_until(decided.open_rectifications[rectification])
    await _until(ef, EnforcementWorkflow.state, lambda s: rectification in s.reinspection_reminded)
    await ef.execute_update(
        EnforcementWorkflow.reinspect,
        Reinspect(actor=HEALTH, decision_id=rectification, passed=False, findings="仍未整改"),
    )
    await ef.execute_update(
        EnforcementWorkflow.decide,
        Decide(actor=HEALTH, kind=SanctionKind.SUSPENSION, legal_basis="第二十条", reason="逾期"),
    )
    await _start_joint_punishment(ef, months=6)
    # Until the child has run a step: then it is known to `CaseEnv.end_workflows`, and not
    # left running with its timers when the next scenario skips months.
    jp = case_env.client.get_workflow_handle(credit_entry_id(case_id))
    await _jp(jp, lambda s: s.plan is not None)
    return ef


async def _start_joint_punishment(ef: Handle, months: int) -> None:
    await ef.execute_update(
        EnforcementWorkflow.joint_punishment,
        StartJointPunishment(
            actor=HEALTH,
            serious=True,
            publicity_months=months,
            legal_basis="国发〔2016〕33号",
            reason="虐童行为查实，情节严重",
        ),
    )


async def _joint_punishment(case_env: CaseEnv, months: int) -> Handle:
    case_id, ef = await _abuse(case_env, [])
    await _start_joint_punishment(ef, months)
    jp = case_env.client.get_workflow_handle(credit_entry_id(case_id))
    await _until(jp, JointPunishmentWorkflow.state, lambda s: s.plan is not None)
    return jp


async def _jp(jp: Handle, check: Callable[[Any], bool]) -> Any:
    return await _until(jp, JointPunishmentWorkflow.state, check)


COMMITMENT = "本机构承诺所提交材料真实有效，已纠正失信行为，如有不实愿承担相应法律责任。"


async def joint_punishment_repaired(case_env: CaseEnv) -> Handle:
    """Under Order 36: serious for 24 months, so that the tier's minimum (12 months from the
    finding) ends before publication does; the institution's commitment is recorded before the
    request, the finding unit grants, and every department lifts its measures."""
    jp = await _joint_punishment(case_env, months=24)
    await jp.execute_update(
        JointPunishmentWorkflow.object, RecordObjection(actor=OPERATOR, reason="机构称已整改")
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_objection,
        Review(actor=HEALTH, upheld=False, reason="异议理由不成立"),
    )
    state = await _jp(jp, lambda s: s.status == "published")
    assert state.rules == "order-36" and state.tier == "serious"
    for unit in state.pending[:-2]:
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    await case_env.pass_time_until(state.plan.acknowledge_by)
    state = await _jp(jp, lambda s: s.reminded)
    await case_env.pass_time_until(state.plan.acknowledge_final_by)
    state = await _jp(jp, lambda s: s.escalated)
    await case_env.pass_time_until(state.plan.repair_from)
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(actor=OPERATOR, commitment=COMMITMENT),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="已整改到位")
    )
    # 谁认定、谁修复: the lead that made the finding grants it.
    await jp.execute_update(
        JointPunishmentWorkflow.review_repair,
        Review(actor=HEALTH, upheld=True, reason="已纠正失信行为、履行法定义务，同意修复"),
    )
    state = await _jp(jp, lambda s: s.status == "removed" and s.lifting)
    for unit in list(state.lifting):
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge_lifting, AcknowledgeLifting(actor=department(unit))
        )
    with case_env.holding_the_clock():
        await jp.result()
    return jp


async def joint_punishment_publicity_ends(case_env: CaseEnv) -> Handle:
    jp = await _joint_punishment(case_env, months=6)
    state = await _jp(jp, lambda s: s.plan is not None)
    await case_env.pass_time_until(state.plan.objection_by)
    state = await _jp(jp, lambda s: s.status == "published")
    for unit in list(state.pending):
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    await case_env.pass_time_until(state.plan.publicity_until)
    await _jp(jp, lambda s: s.status == "removed")
    return jp


async def joint_punishment_withdrawn(case_env: CaseEnv) -> Handle:
    jp = await _joint_punishment(case_env, months=6)
    await jp.execute_update(
        JointPunishmentWorkflow.object,
        RecordObjection(actor=town("street-ximen"), reason="认定有误"),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_objection,
        Review(actor=HEALTH, upheld=True, reason="经复核，异议成立"),
    )
    await _jp(jp, lambda s: s.status == "withdrawn")
    return jp


async def ban_correction(case_env: CaseEnv) -> Handle:
    _, ef = await _abuse(case_env, [person("赵保育员")])
    [ban] = (await ef.query(EnforcementWorkflow.state)).bans
    admin = Actor(name="系统管理员", role=Role.ADMIN)
    with case_env.holding_the_clock():
        handle = await case_env.client.start_workflow(
            BanCorrectionWorkflow.run,
            CorrectBan(ban_id=ban.ban_id, reason="法院判决撤销原认定", actor=admin),
            id=f"ban-correction-{ban.ban_id}-recorded",
            task_queue=TASK_QUEUE,
        )
        assert await handle.result() is True
    return handle


async def employment_recheck(case_env: CaseEnv) -> Handle:
    await _abuse(case_env, [person("王厨师")])
    with case_env.holding_the_clock():
        handle = await case_env.client.start_workflow(
            EmploymentRecheckWorkflow.run, id="staff-recheck-recorded", task_queue=TASK_QUEUE
        )
        await handle.result()
    return handle


async def case_reused_event_id_refused(case_env: CaseEnv) -> Handle:
    first, handle = await case_env.open(town="town-lushan")
    other = first.model_copy(update={"description": "另一位话务员的另一份投诉。"})
    await submit_complaint(case_env.client, first, TASK_QUEUE)  # a plain duplicate
    await submit_complaint(case_env.client, other, TASK_QUEUE)  # refused
    assert await eventually(lambda: any(k == first.event_id for k, _ in case_env.publisher.dead))
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    return handle


async def case_step_parked(case_env: CaseEnv) -> Handle:
    _, handle = await case_env.open(town="town-lushan")
    await handle.execute_update(
        CaseWorkflow.note, AddNote(actor=town(), text=f"现场核实{REFUSED_BY_DATABASE}")
    )
    state: CaseState = await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    assert len(state.parked) == 1
    return handle


async def case_supervision_overdue(case_env: CaseEnv) -> Handle:
    _, handle = await case_env.open(category="prepayment", town="town-lushan")
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    due = await case_env.now() + timedelta(hours=6)
    await handle.execute_update(
        CaseWorkflow.supervise, Supervise(actor=LEADING_OFFICE, comments="请加快", due_by=due)
    )
    with case_env.holding_the_clock():
        await case_env.pass_time_until(due)
        await case_env.until(handle, lambda s: s.history[-1].action == "case.supervision-overdue")
    return handle


SCENARIOS: dict[str, Scenario] = {
    "enforcement-ban-decisions-reinspection": Scenario(
        "EnforcementWorkflow",
        "abuse with one person: ban and new-ban recheck; a rectification, its reminder when "
        "the deadline passes, a failed re-inspection, a suspension, joint punishment started",
        enforcement,
    ),
    # `joint-punishment-objection-reminders-repair.json` is the same story before Order 36
    # (no commitment, granted by the leading office); its scenario cannot run any more.
    "joint-punishment-order-36-commitment-repair": Scenario(
        "JointPunishmentWorkflow",
        "Order 36, serious for 24 months: notice, objection rejected, published, two "
        "departments late (reminded, escalated), the commitment recorded, repair asked after "
        "the tier's minimum and granted by the finding unit: removed early, every department "
        "lifting its measures",
        joint_punishment_repaired,
    ),
    "joint-punishment-publicity-ends": Scenario(
        "JointPunishmentWorkflow",
        "no objection in the window, published, all acknowledged, removed when publicity ends",
        joint_punishment_publicity_ends,
    ),
    "joint-punishment-withdrawn": Scenario(
        "JointPunishmentWorkflow",
        "objection upheld on review: withdrawn before entry",
        joint_punishment_withdrawn,
    ),
    "ban-correction": Scenario(
        "BanCorrectionWorkflow", "an administrator corrects a ban", ban_correction
    ),
    "employment-recheck-yearly": Scenario(
        "EmploymentRecheckWorkflow",
        "the yearly recheck (no input) after one new ban",
        employment_recheck,
    ),
    "case-reused-event-id-refused": Scenario(
        "CaseWorkflow",
        "a repeat of the opening complaint, then the same event id with other content "
        "(refused and recorded), then accepted",
        case_reused_event_id_refused,
    ),
    "case-step-parked": Scenario(
        "CaseWorkflow",
        "a note whose step the database refuses for good: parked, the case accepted after",
        case_step_parked,
    ),
    "case-supervision-order-overdue": Scenario(
        "CaseWorkflow",
        "a case accepted, then a 督办 order whose deadline passes unanswered (flagged overdue)",
        case_supervision_overdue,
    ),
}
