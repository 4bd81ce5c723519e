"""Enforcement on the time-skipping server: bans for abuse (perpetrator and direct manager),
hiring checks, decisions and re-inspection, joint punishment from notice to removal."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from infra.deadlines import load_enforcement
from infra.identity import IdentityHasher
from infra.integrity import file_of
from models.bans import Ban, BanRole
from models.case_actions import AcceptCase, ReportResult
from models.cases import Outcome, UnitRecord
from models.credit import (
    Acknowledge,
    CreditEntry,
    RecordObjection,
    RequestRepair,
    Review,
    credit_entry_id,
)
from models.credit_repair import RecordCommitment
from models.enforcement import (
    Decide,
    EnforcementState,
    Reinspect,
    SanctionKind,
    StartJointPunishment,
    enforcement_workflow_id,
)
from models.institutions import Institution, Registrar
from models.integrity import IntegrityKind
from models.notifications import NotificationKind
from models.people import PersonIdentity
from models.registry import RegistryCommand, StaffCommand
from models.staff import Employment, StaffRole
from tests.case_env import LEADING_OFFICE, OPERATOR, TASK_QUEUE, CaseEnv, department, town
from tests.factories import person
from tests.polling import eventually
from workflows.cases.workflows import CaseWorkflow
from workflows.enforcement.credit.workflows import JointPunishmentWorkflow
from workflows.enforcement.decisions.workflows import EnforcementWorkflow
from workflows.registry.starter import check_staff
from workflows.registry.workflows import EmploymentRecheckWorkflow

HASHER = IdentityHasher(b"k" * 32)
HEALTH = department("health")


async def register(case_env: CaseEnv, town_code: str = "street-ximen") -> str:
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


async def staff(
    case_env: CaseEnv,
    who: PersonIdentity,
    institution_id: str,
    *,
    manager: PersonIdentity | None = None,
    hire: bool = True,
) -> Any:
    command = RegistryCommand(
        staff=StaffCommand(
            type="staff-hired" if hire else "check",
            event_id=f"test-{uuid.uuid4()}",
            occurred_at=await case_env.now(),
            institution_id=institution_id,
            person=HASHER.ref(who),
            role=StaffRole.NURSERY_TEACHER,
            manager=HASHER.ref(manager) if manager else None,
        )
    )
    with case_env.holding_the_clock():
        return await check_staff(case_env.client, command, TASK_QUEUE)


async def substantiated_abuse(
    case_env: CaseEnv, institution_id: str, persons: list[PersonIdentity]
) -> str:
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
    return state.case_id


async def enforcement(case_env: CaseEnv, case_id: str, check: Any) -> EnforcementState:
    handle = case_env.client.get_workflow_handle(
        enforcement_workflow_id(case_id), result_type=EnforcementState
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            state = await handle.query(EnforcementWorkflow.state)
            if check(state):
                return state
        except Exception:  # not started yet
            pass
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_abuse_bans_the_perpetrator_and_the_direct_manager_and_hiring_is_refused(
    case_env: CaseEnv,
) -> None:
    kindergarten, elsewhere = await register(case_env), await register(case_env, "town-lushan")
    director, teacher = person("李园长"), person("张保育员")
    assert (await staff(case_env, director, kindergarten)).recorded
    assert (await staff(case_env, teacher, kindergarten, manager=director)).recorded

    case_id = await substantiated_abuse(case_env, kindergarten, [teacher])
    state = await enforcement(case_env, case_id, lambda s: len(s.bans) == 2)
    assert sorted((b.name, b.role) for b in state.bans) == [
        ("张保育员", BanRole.PERPETRATOR),
        ("李园长", BanRole.DIRECT_MANAGER),
    ]
    with case_env.sessions() as session:
        bans = session.exec(select(Ban).where(Ban.case_id == case_id)).all()
        teacher_id = teacher.id_number.get_secret_value()
        assert {b.person_masked for b in bans} >= {f"{teacher_id[:3]}{'*' * 11}{teacher_id[-4:]}"}
        assert all(teacher_id not in str(b.model_dump()) for b in bans)

    # Both still work there: the new ban's check alerts at once (its activity runs after the
    # bans are in the state: polled, it lagged under load).
    def new_ban_alerts() -> list[Any]:
        sent = case_env.publisher.to(case_id, NotificationKind.BAN_ALERT)
        return [n for n in sent if "新禁入" in n.title]

    assert await eventually(lambda: len(new_ban_alerts()) >= 6, within=60)
    alerts = new_ban_alerts()
    assert sorted({n.recipient for n in alerts}) == ["health", "psb", "street-ximen"]
    assert len(alerts) == 6  # two persons, three recipients

    # The teacher applies elsewhere: refused, with alerts to health, PSB and that town.
    result = await staff(case_env, teacher, elsewhere)
    assert not result.eligible and not result.recorded and "终身禁入" in result.message
    with case_env.sessions() as session:
        employed = session.exec(
            select(Employment).where(Employment.institution_id == elsewhere)
        ).all()
        assert employed == []
    assert {
        n.recipient
        for n in case_env.publisher.sent
        if n.kind == NotificationKind.BAN_ALERT
        and "拟入职" in n.title
        and elsewhere[-4:] in n.title
    } == {"health", "psb", "town-lushan"}

    # The integrity file holds the outcome and both bans; a ban is never deleted.
    with case_env.sessions() as session:
        kinds = [r.kind for r in file_of(session, f"id:{kindergarten}")]
        assert kinds[:1] == ["complaint-outcome"] and kinds.count(IntegrityKind.BAN) == 2
        ban = session.exec(select(Ban).where(Ban.case_id == case_id)).first()
        session.delete(ban)
        with pytest.raises(DatabaseError):
            session.commit()


async def test_yearly_recheck_finds_banned_people_still_employed(case_env: CaseEnv) -> None:
    kindergarten = await register(case_env, "town-kaitang")
    cook = person("王厨师")
    await staff(case_env, cook, kindergarten)
    case_id = await substantiated_abuse(case_env, await register(case_env), [cook])
    await enforcement(case_env, case_id, lambda s: len(s.bans) == 1)

    with case_env.holding_the_clock():
        found = await case_env.client.execute_workflow(
            EmploymentRecheckWorkflow.run,
            id=f"staff-recheck-{uuid.uuid4()}",
            task_queue=TASK_QUEUE,
        )
    assert found >= 1
    yearly = [n for n in case_env.publisher.sent if "年度复核" in n.title and "王厨师" in n.title]
    assert {n.recipient for n in yearly} == {"health", "psb", "town-kaitang"}


async def test_decisions_reinspection_and_refusals(case_env: CaseEnv) -> None:
    kindergarten = await register(case_env)
    _, handle = await case_env.open(category="safety-fire", institution_id=kindergarten)
    await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town("street-ximen")))
    state = await handle.execute_update(
        CaseWorkflow.report_result,
        ReportResult(
            actor=town("street-ximen"),
            outcome=Outcome.SUBSTANTIATED,
            findings="疏散通道堵塞",
        ),
    )
    case_id = state.case_id
    await enforcement(case_env, case_id, lambda s: True)
    ef = case_env.client.get_workflow_handle(enforcement_workflow_id(case_id))

    with pytest.raises(WorkflowUpdateFailedError):  # not the lead department
        await ef.execute_update(
            EnforcementWorkflow.decide,
            Decide(
                actor=town("street-ximen"),
                kind=SanctionKind.WARNING,
                legal_basis="第八条",
                reason="警告处理",
            ),
        )
    with pytest.raises(WorkflowUpdateFailedError):  # a rectification needs a deadline
        await ef.execute_update(
            EnforcementWorkflow.decide,
            Decide(
                actor=HEALTH, kind=SanctionKind.RECTIFICATION, legal_basis="第十条", reason="整改"
            ),
        )
    decided = await ef.execute_update(
        EnforcementWorkflow.decide,
        Decide(
            actor=HEALTH,
            kind=SanctionKind.RECTIFICATION,
            legal_basis="《托育机构设置标准（试行）》",
            reason="限期清理疏散通道",
            rectify_within_days=5,
        ),
    )
    [rectification] = decided.open_rectifications
    # Nobody re-inspects in time: the deciding unit and the town are reminded, once.
    await case_env.pass_time_until(decided.open_rectifications[rectification])
    deadline = time.monotonic() + 30
    while not case_env.publisher.to(case_id, NotificationKind.REMINDER):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    reminders = case_env.publisher.to(case_id, NotificationKind.REMINDER)
    assert {n.recipient for n in reminders} == {"health", "street-ximen"}
    assert all("复查提醒" in n.title for n in reminders)
    dispatched = case_env.publisher.to(case_id, NotificationKind.DECISION)
    assert {n.recipient for n in dispatched} == {"samr", "street-ximen"}  # registrar and town
    assert all("责令限期整改" in n.title for n in dispatched)

    decided = await ef.execute_update(
        EnforcementWorkflow.reinspect,
        Reinspect(actor=HEALTH, decision_id=rectification, passed=False, findings="仍未整改"),
    )
    assert decided.failed_reinspections == 1 and decided.open_rectifications == {}
    failed = case_env.publisher.to(case_id, NotificationKind.REINSPECTION_FAILED)
    assert {n.recipient for n in failed} == {"leading-office", "health"}
    decided = await ef.execute_update(
        EnforcementWorkflow.decide,
        Decide(
            actor=HEALTH,
            kind=SanctionKind.SUSPENSION,
            legal_basis="第二十条",
            reason="逾期未整改",
        ),
    )
    assert len(decided.decisions) == 2
    with case_env.sessions() as session:
        kinds = [r.kind for r in file_of(session, f"id:{kindergarten}")]
        assert kinds == ["complaint-outcome", "decision", "reinspection", "decision"]


async def start_joint_punishment(
    case_env: CaseEnv, months: int = 24, sanction: str | None = None
) -> tuple[str, Any]:
    kindergarten = await register(case_env)
    case_id = await substantiated_abuse(case_env, kindergarten, [])
    await enforcement(case_env, case_id, lambda s: True)
    ef = case_env.client.get_workflow_handle(enforcement_workflow_id(case_id))
    await ef.execute_update(
        EnforcementWorkflow.joint_punishment,
        StartJointPunishment(
            actor=HEALTH,
            serious=True,
            sanction=sanction,
            publicity_months=months,
            legal_basis="国发〔2016〕33号",
            reason="虐童行为查实，情节严重",
        ),
    )
    jp = case_env.client.get_workflow_handle(credit_entry_id(case_id))
    await until_jp(jp, lambda s: s.plan is not None)
    return case_id, jp


async def until_jp(handle: Any, check: Any) -> Any:
    deadline = time.monotonic() + 30
    while True:
        state = await handle.query(JointPunishmentWorkflow.state)
        if check(state):
            return state
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.05)


async def test_joint_punishment_notice_objection_entry_acknowledgments_and_repair(
    case_env: CaseEnv,
) -> None:
    # 24 months' publicity (serious under Order 36): repair may be asked after the 12-month
    # minimum, before the end.
    case_id, jp = await start_joint_punishment(case_env, months=24)
    state = await jp.query(JointPunishmentWorkflow.state)
    [notice] = case_env.publisher.to(case_id, NotificationKind.PRIOR_NOTICE)
    assert notice.due_at == state.plan.objection_by and "异议" in notice.text

    await jp.execute_update(
        JointPunishmentWorkflow.object, RecordObjection(actor=OPERATOR, reason="机构称已整改")
    )
    with pytest.raises(WorkflowUpdateFailedError):  # only the lead reviews
        await jp.execute_update(
            JointPunishmentWorkflow.review_objection,
            Review(actor=town("street-ximen"), upheld=False, reason="驳回异议"),
        )
    await jp.execute_update(
        JointPunishmentWorkflow.review_objection,
        Review(actor=HEALTH, upheld=False, reason="异议理由不成立"),
    )
    state = await until_jp(jp, lambda s: s.status == "published")
    [entry] = [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)]
    assert entry.action == "entry" and entry.serious and entry.tier == "serious"
    # The entry names every department's measures, as their dispatches do.
    policy = load_enforcement()
    assert entry.measures == policy.measures
    assert {m.department for m in entry.measures} == set(state.pending)
    measures = case_env.publisher.to(case_id, NotificationKind.JOINT_PUNISHMENT)
    assert {n.recipient for n in measures} == set(state.pending) >= {"samr", "civil", "psb"}

    for unit in state.pending[:-2]:
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    late = sorted(state.pending[-2:])
    await case_env.pass_time_until(state.plan.acknowledge_by)
    state = await until_jp(jp, lambda s: s.reminded)
    reminded = case_env.publisher.to(case_id, NotificationKind.REMINDER)
    assert sorted(n.recipient for n in reminded) == late
    await case_env.pass_time_until(state.plan.acknowledge_final_by)
    state = await until_jp(jp, lambda s: s.escalated)
    [escalation] = case_env.publisher.to(case_id, NotificationKind.ESCALATION)
    assert escalation.recipient == "leading-office"
    with case_env.sessions() as session:
        records = session.exec(select(UnitRecord).where(UnitRecord.case_id == case_id)).all()
        assert sorted(r.unit for r in records) == late

    with pytest.raises(WorkflowUpdateFailedError):  # before the minimum publicity period
        await jp.execute_update(
            JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="已整改")
        )
    await case_env.pass_time_until(state.plan.repair_from)
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(
            actor=OPERATOR, commitment="本机构承诺所提交材料真实有效，如有不实愿承担相应责任。"
        ),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="已整改到位")
    )
    with pytest.raises(WorkflowUpdateFailedError):  # 谁认定、谁修复: not the leading office
        await jp.execute_update(
            JointPunishmentWorkflow.review_repair,
            Review(actor=LEADING_OFFICE, upheld=True, reason="整改到位，同意修复"),
        )
    await jp.execute_update(
        JointPunishmentWorkflow.review_repair,
        Review(actor=HEALTH, upheld=True, reason="整改到位，同意修复"),
    )
    state = await until_jp(jp, lambda s: s.status == "removed")
    removal = [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)][-1]
    assert removal.action == "removal" and removal.repaired and removal.sharing_stopped
    with case_env.sessions() as session:
        row = session.get(CreditEntry, credit_entry_id(case_id))
        assert (
            row is not None and row.status == "removed" and "信用修复" in (row.removal_reason or "")
        )
        kinds = [r.kind for r in file_of(session, row.institution_key)]
        # (the lifting that follows the removal: tests/test_credit_repair.py)
        assert [k for k in kinds if k.startswith("credit-") and k != "credit-lifting"] == [
            "credit-notice",
            "credit-entry",
            "credit-commitment",
            "credit-removal",
        ]


async def test_without_objection_the_entry_is_published_and_removed_when_publicity_ends(
    case_env: CaseEnv,
) -> None:
    case_id, jp = await start_joint_punishment(case_env, months=12)
    state = await jp.query(JointPunishmentWorkflow.state)
    await case_env.pass_time_until(state.plan.objection_by)
    state = await until_jp(jp, lambda s: s.status == "published")
    assert state.plan.publicity_until is not None
    assert state.plan.publicity_until - state.plan.objection_by > timedelta(days=180)
    for unit in list(state.pending):
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    await case_env.pass_time_until(state.plan.publicity_until)
    state = await until_jp(jp, lambda s: s.status == "removed")
    with case_env.sessions() as session:
        row = session.get(CreditEntry, credit_entry_id(case_id))
        assert row is not None and row.removal_reason == "最长公示期届满，自动停止公示、停止共享"


async def test_upheld_objection_withdraws_the_punishment(case_env: CaseEnv) -> None:
    case_id, jp = await start_joint_punishment(case_env)
    await jp.execute_update(
        JointPunishmentWorkflow.object,
        RecordObjection(actor=town("street-ximen"), reason="认定有误"),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_objection,
        Review(actor=HEALTH, upheld=True, reason="经复核，异议成立"),
    )
    state = await until_jp(jp, lambda s: s.status == "withdrawn")
    assert state.status == "withdrawn"
    assert not [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)]
