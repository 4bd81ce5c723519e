"""Credit repair under NDRC Order No. 36 on the time-skipping server: the tiers from the
sanction table, the commitment and the duties checked when the finding unit grants, the
synchronous lifting of every department's measures with a late department chased, and an
entry published under the two-tier rules keeping its recorded period."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import temporalio.workflow
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from infra import reference
from infra.codec import EncryptionCodec, data_converter
from infra.deadlines import add_months, load_enforcement
from infra.integrity import file_of, public_view
from infra.settings import Settings
from infra.vault import load_vault
from models.cases import UnitRecord
from models.credit import (
    Acknowledge,
    CreditEntry,
    PlanCredit,
    RecordObjection,
    RequestRepair,
    Review,
    credit_entry_id,
)
from models.credit_repair import AcknowledgeLifting, CreditTiers, RecordCommitment
from models.credit_steps import CreditStage
from models.enforcement import Decide, Reinspect, SanctionKind, enforcement_workflow_id
from models.integrity import IntegrityRecordPublic
from models.notifications import NotificationKind
from tests.case_env import LEADING_OFFICE, OPERATOR, CaseEnv, department, town
from tests.histories import HISTORIES, write_in_clear
from tests.polling import eventually
from tests.test_enforcement import HEALTH, start_joint_punishment, until_jp
from workers.temporal_worker import WORKFLOWS
from workflows.enforcement.credit.activities import CreditActivities
from workflows.enforcement.credit.repair import ORDER_36
from workflows.enforcement.credit.workflows import JointPunishmentWorkflow
from workflows.enforcement.decisions.workflows import EnforcementWorkflow

COMMITMENT = "本机构承诺所提交材料真实有效，已纠正失信行为，如有不实愿承担相应法律责任。"


async def refused(update: Any) -> ApplicationError:
    """The workflow's typed refusal (code, Chinese message) of an update."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ActionRefused"
    return cause


def code(error: ApplicationError) -> str:
    return str(error.details[0])


async def published(case_env: CaseEnv, jp: Any) -> Any:
    """Past the objection window, every department acknowledging its measures."""
    state = await jp.query(JointPunishmentWorkflow.state)
    await case_env.pass_time_until(state.plan.objection_by)
    state = await until_jp(jp, lambda s: s.status == "published")
    for unit in list(state.pending):
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    return await until_jp(jp, lambda s: not s.pending)


def test_the_tier_table_is_validated_against_order_36() -> None:
    policy = load_enforcement()
    assert [(t, p.min_months, p.max_months) for t, p in policy.tiers.items()] == [
        ("minor", 0, 3),
        ("general", 3, 12),
        ("serious", 12, 36),
    ]
    table = {r.sanction: r.tier for r in policy.tier_rules}
    assert table.items() >= {
        ("warning-simplified", "minor"),
        ("fine-large", "general"),
        ("revocation", "serious"),
        ("trade-ban", "serious"),
    }
    assert all(r.legal_basis for r in policy.tier_rules)
    tiers = CreditTiers(tiers=policy.tiers, tier_rules=policy.tier_rules).model_dump()
    too_short = json.loads(json.dumps(tiers))
    too_short["tiers"]["serious"]["min_months"] = 6  # the 2023 trial rules' minimum
    with pytest.raises(ValueError, match="outside Order 36"):
        CreditTiers.model_validate(too_short)
    twice = json.loads(json.dumps(tiers))
    twice["tier_rules"].append(twice["tier_rules"][0])
    with pytest.raises(ValueError, match="listed twice"):
        CreditTiers.model_validate(twice)
    unknown = json.loads(json.dumps(tiers))
    unknown["tier_rules"][0]["tier"] = "ordinary"
    with pytest.raises(ValueError):
        CreditTiers.model_validate(unknown)


async def test_tiers_follow_the_sanction_and_their_periods(case_env: CaseEnv) -> None:
    # Minor, not published (0 months): recorded in the integrity file, nothing announced.
    case_id, jp = await start_joint_punishment(case_env, months=0, sanction="warning-simplified")
    state = await until_jp(jp, lambda s: s.status == "not-published")
    assert state.tier == "minor" and state.rules == "order-36"
    assert not case_env.publisher.to(case_id, NotificationKind.PRIOR_NOTICE)
    assert not [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)]

    # General (a large fine): 3 months at least, counted from the finding.
    case_id, jp = await start_joint_punishment(case_env, months=6, sanction="fine-large")
    found = await case_env.now()
    state = await published(case_env, jp)
    assert state.tier == "general"
    assert abs((state.plan.repair_from - add_months(found, 3)).total_seconds()) < 60
    assert abs((state.plan.publicity_until - add_months(found, 6)).total_seconds()) < 60
    [entry] = [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)]
    assert entry.tier == "general" and not entry.serious
    # Serious (revocation): no repair before a year, even with the commitment made.
    _, jp = await start_joint_punishment(case_env, months=36, sanction="revocation")
    state = await published(case_env, jp)
    assert state.tier == "serious"
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(actor=OPERATOR, commitment=COMMITMENT),
    )
    early = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="已整改")
        )
    )
    assert code(early) == "too_early" and "最短公示期" in early.message

    # Minor but published (2 months): repairable as soon as the duty is fulfilled, even
    # while the departments are still to acknowledge their measures.
    case_id, jp = await start_joint_punishment(case_env, months=2, sanction="fine-simplified")
    state = await jp.query(JointPunishmentWorkflow.state)
    await case_env.pass_time_until(state.plan.objection_by)
    state = await until_jp(jp, lambda s: s.status == "published")
    assert state.tier == "minor" and state.plan.repair_from <= await case_env.now()
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(actor=town("street-ximen"), commitment=COMMITMENT),
    )
    state = await jp.execute_update(
        JointPunishmentWorkflow.request_repair,
        RequestRepair(actor=OPERATOR, reason="罚款已缴清"),
    )
    assert state.repair_request == "罚款已缴清" and state.pending
    await jp.execute_update(
        JointPunishmentWorkflow.review_repair,
        Review(actor=HEALTH, upheld=True, reason="罚款已缴清，同意修复"),
    )
    state = await until_jp(jp, lambda s: s.status == "removed")  # the clock did not move
    assert not state.reminded


async def test_repair_needs_the_commitment_and_every_duty_and_the_finding_unit_decides(
    case_env: CaseEnv,
) -> None:
    case_id, jp = await start_joint_punishment(case_env, months=12, sanction="fine")
    ef = case_env.client.get_workflow_handle(enforcement_workflow_id(case_id))
    decided = await ef.execute_update(
        EnforcementWorkflow.decide,
        Decide(
            actor=HEALTH,
            kind=SanctionKind.RECTIFICATION,
            legal_basis="《托育机构设置标准（试行）》",
            reason="限期整改安全管理制度",
            rectify_within_days=5,
        ),
    )
    [rectification] = decided.open_rectifications
    state = await published(case_env, jp)
    await case_env.pass_time_until(state.plan.repair_from)

    no_commitment = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="已整改")
        )
    )
    assert code(no_commitment) == "no_commitment" and "信用承诺" in no_commitment.message
    not_theirs = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.record_commitment,
            RecordCommitment(actor=department("samr"), commitment=COMMITMENT),
        )
    )
    assert code(not_theirs) == "not_allowed"
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(actor=OPERATOR, commitment=COMMITMENT),
    )
    again = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.record_commitment,
            RecordCommitment(actor=OPERATOR, commitment=COMMITMENT),
        )
    )
    assert code(again) == "already_committed"
    await jp.execute_update(
        JointPunishmentWorkflow.request_repair,
        RequestRepair(actor=OPERATOR, reason="已整改到位，罚款已缴清"),
    )
    # 谁认定、谁修复: neither the leading office nor another department decides.
    for other in (LEADING_OFFICE, department("samr")):
        refusal = await refused(
            jp.execute_update(
                JointPunishmentWorkflow.review_repair,
                Review(actor=other, upheld=True, reason="同意修复"),
            )
        )
        assert code(refusal) == "not_finding_unit" and "谁认定、谁修复" in refusal.message
    # The rectification has not been re-inspected: the grant is refused, the request stays.
    outstanding = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.review_repair,
            Review(actor=HEALTH, upheld=True, reason="同意修复"),
        )
    )
    assert code(outstanding) == "duties_outstanding"
    assert "责令限期整改" in outstanding.message and "尚未复查" in outstanding.message
    state = await jp.query(JointPunishmentWorkflow.state)
    assert state.status == "published" and state.repair_request is not None

    await ef.execute_update(
        EnforcementWorkflow.reinspect,
        Reinspect(actor=HEALTH, decision_id=rectification, passed=True, findings="整改合格"),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_repair,
        Review(actor=HEALTH, upheld=True, reason="已纠正失信行为、履行法定义务，同意修复"),
    )
    state = await until_jp(jp, lambda s: s.status == "removed")
    removal = [e for e in case_env.publisher.credit if e.entry_id == credit_entry_id(case_id)][-1]
    assert removal.action == "removal" and removal.repaired and removal.sharing_stopped
    with case_env.sessions() as session:
        row = session.get(CreditEntry, credit_entry_id(case_id))
        assert row is not None and row.tier == "general" and row.commitment_at is not None
        records = [
            IntegrityRecordPublic.model_validate(r) for r in file_of(session, row.institution_key)
        ]
    # The commitment is public, as Order 36 wants it.
    assert any(COMMITMENT in r.summary for r in public_view(records))


@pytest.fixture
def recording(settings: Settings) -> Iterator[EncryptionCodec | None]:
    """TUOYU_RECORD_HISTORIES=1 writes the Order 36 history again."""
    yield (
        EncryptionCodec(load_vault(settings)) if os.environ.get("TUOYU_RECORD_HISTORIES") else None
    )


async def test_every_department_lifts_its_measures_at_once_and_a_late_one_is_chased(
    case_env: CaseEnv, settings: Settings, recording: EncryptionCodec | None
) -> None:
    case_id, jp = await start_joint_punishment(case_env, months=6, sanction="fine")
    await jp.execute_update(
        JointPunishmentWorkflow.object, RecordObjection(actor=OPERATOR, reason="机构称已缴清")
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_objection,
        Review(actor=HEALTH, upheld=False, reason="异议理由不成立"),
    )
    state = await until_jp(jp, lambda s: s.status == "published")
    for unit in list(state.pending):
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge, Acknowledge(actor=department(unit))
        )
    await case_env.pass_time_until(state.plan.repair_from)
    await jp.execute_update(
        JointPunishmentWorkflow.record_commitment,
        RecordCommitment(actor=OPERATOR, commitment=COMMITMENT),
    )
    await jp.execute_update(
        JointPunishmentWorkflow.request_repair, RequestRepair(actor=OPERATOR, reason="罚款已缴清")
    )
    await jp.execute_update(
        JointPunishmentWorkflow.review_repair,
        Review(actor=HEALTH, upheld=True, reason="同意修复"),
    )
    state = await until_jp(jp, lambda s: s.status == "removed" and s.lifting)
    departments = [m.department for m in load_enforcement().measures]
    assert sorted(state.lifting) == sorted(departments)
    liftings = case_env.publisher.to(case_id, NotificationKind.CREDIT_LIFTING)
    assert sorted(n.recipient for n in liftings) == sorted(departments)
    assert all(n.due_at == state.plan.lift_by and "同步解除" in n.text for n in liftings)
    # No department lifts before the publication has ended: the old removal notice is gone.
    assert not case_env.publisher.to(case_id, NotificationKind.CREDIT_REMOVAL)

    late, *prompt = state.lifting
    for unit in prompt:
        await jp.execute_update(
            JointPunishmentWorkflow.acknowledge_lifting, AcknowledgeLifting(actor=department(unit))
        )
    twice = await refused(
        jp.execute_update(
            JointPunishmentWorkflow.acknowledge_lifting,
            AcknowledgeLifting(actor=department(prompt[0])),
        )
    )
    assert code(twice) == "not_pending"
    await case_env.pass_time_until(state.plan.lift_by)
    state = await until_jp(jp, lambda s: s.lifting_reminded)
    reminders = [
        n for n in case_env.publisher.to(case_id, NotificationKind.REMINDER) if "解除" in n.title
    ]
    assert [n.recipient for n in reminders] == [late]
    await case_env.pass_time_until(state.plan.lift_final_by)
    state = await until_jp(jp, lambda s: s.lifting_escalated)
    [escalation] = [
        n for n in case_env.publisher.to(case_id, NotificationKind.ESCALATION) if "解除" in n.title
    ]
    assert escalation.recipient == "leading-office"
    assert reference.units()[late].name in escalation.text
    with case_env.sessions() as session:
        chased = session.exec(select(UnitRecord).where(UnitRecord.case_id == case_id)).all()
        assert [r.unit for r in chased if "解除" in r.reason] == [late]

    await jp.execute_update(
        JointPunishmentWorkflow.acknowledge_lifting,
        AcknowledgeLifting(actor=department(late), note="已解除"),
    )
    state = await until_jp(jp, lambda s: not s.lifting)
    assert sorted(state.lifted) == sorted(departments)
    assert await eventually(lambda: _lifted(case_env, credit_entry_id(case_id)))
    with case_env.sessions() as session:
        row = session.get(CreditEntry, credit_entry_id(case_id))
        assert row is not None
        keys = [r.key for r in file_of(session, row.institution_key)]
    steps = [k.removeprefix(f"{credit_entry_id(case_id)}:") for k in keys]
    lifting_steps = [s for s in steps if s.startswith("lifting") or s == "lifted"]
    assert lifting_steps[0] == "lifting" and lifting_steps[-1] == "lifted"
    assert {"lifting-reminded", "lifting-escalated", f"lifting-acknowledged:{late}"} <= set(
        lifting_steps
    )
    assert len([s for s in lifting_steps if s.startswith("lifting-acknowledged")]) == len(
        departments
    )

    history = await jp.fetch_history()
    assert '"markerName": "core_patch"' in history.to_json()  # ORDER_36, the only patch
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(load_vault(settings)))
    await replayer.replay_workflow(history)
    if recording is not None:
        write_in_clear(history, recording, "joint-punishment-order-36.json")


def _lifted(case_env: CaseEnv, entry_id: str) -> bool:
    with case_env.sessions() as session:
        row = session.get(CreditEntry, entry_id)
        return row is not None and row.lifted_at is not None


async def test_an_entry_published_under_the_two_tier_rules_keeps_its_period(
    case_env: CaseEnv, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A joint punishment started before Order 36: its first workflow task runs as the old
    code ran it (no patch marker), then the upgraded code carries it on; the history recorded
    with the two-tier code (`joint-punishment-two-tier.json`) replays on this one."""
    patched = temporalio.workflow.patched

    def before_order_36(patch_id: str) -> bool:
        return False if patch_id == ORDER_36 else patched(patch_id)

    monkeypatch.setattr(temporalio.workflow, "patched", before_order_36)
    # Serious for 6 months: the 2023 trial rules' minimum, below Order 36's year.
    case_id, jp = await start_joint_punishment(case_env, months=6)
    monkeypatch.undo()
    state = await published(case_env, jp)
    published_at = await case_env.now()
    assert state.rules == "two-tier" and state.tier is None
    assert abs((state.plan.publicity_until - add_months(published_at, 6)).total_seconds()) < 60
    assert state.plan.repair_from == state.plan.publicity_until  # the old serious minimum

    await case_env.pass_time_until(state.plan.publicity_until)
    state = await until_jp(jp, lambda s: s.status == "removed")
    with case_env.sessions() as session:
        row = session.get(CreditEntry, credit_entry_id(case_id))
        assert row is not None and row.tier is None
        assert row.removal_reason == "公示期满，自动移出"
    assert case_env.publisher.to(case_id, NotificationKind.CREDIT_REMOVAL)
    assert not case_env.publisher.to(case_id, NotificationKind.CREDIT_LIFTING)
    history = await jp.fetch_history()
    assert '"markerName": "core_patch"' not in history.to_json()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(load_vault(settings)))
    await replayer.replay_workflow(history)
    recorded = (HISTORIES / "joint-punishment-two-tier.json").read_text()
    assert '"markerName": "core_patch"' not in recorded
    # ... and the one recorded on the Order 36 path carries the patch, in clear.
    assert _patches(HISTORIES / "joint-punishment-order-36.json") == [ORDER_36]


def _patches(path: Path) -> list[str]:
    patches = []
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") == "core_patch":
            [payload] = marker["details"]["patch-data"]["payloads"]
            patches.append(json.loads(base64.b64decode(payload["data"]))["id"])
    return patches


def test_an_unknown_sanction_fails_the_plan_once_not_forever(case_env: CaseEnv) -> None:
    """The API refuses it (422 `unknown_sanction`); a start that bypasses it is not retried."""
    activities = CreditActivities(case_env.sessions, load_enforcement())
    params = PlanCredit(
        start=datetime.now(UTC), stage=CreditStage.NOTICE, serious=False, publicity_months=3
    )
    assert activities.plan_credit(params).tier is None  # two-tier: no tier
    params.order36, params.sanction = True, "no-such-sanction"
    with pytest.raises(ApplicationError) as caught:
        activities.plan_credit(params)
    assert caught.value.non_retryable
