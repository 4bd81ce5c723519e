"""Activities of a credit repair under Order 36: the institution's commitment, the check of
its legal duties, and the synchronous lifting of every department's measures (dispatched,
acknowledged, reminded, escalated), each step in the audit trail and the integrity file."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from temporalio import activity

from infra import audit, integrity, notify, reference
from infra.db import SessionFactory
from models.audit import AuditEntry
from models.cases import Case, UnitRecord, UnitRecordKind
from models.credit import CreditEntry, EnforcementPolicy
from models.credit_repair import RepairConditions, RepairStep
from models.enforcement import Decision, RectificationStatus
from models.integrity import IntegrityKind
from models.notifications import Notification, NotificationKind
from workflows.enforcement.texts import SANCTION_NAMES, beijing

LEADING_OFFICE = "leading-office"


def _unit_name(code: str) -> str:
    unit = reference.units().get(code)
    return unit.name if unit else code


class CreditRepairActivities:
    def __init__(self, session_factory: SessionFactory, policy: EnforcementPolicy) -> None:
        self._sessions = session_factory
        self._policy = policy

    def all(self) -> list[Any]:
        return [self.repair_conditions, self.record_repair_step]

    @activity.defn
    def repair_conditions(self, params: RepairConditions) -> list[str]:
        """What is still outstanding: every rectification of the case must have passed its
        re-inspection (the violation corrected). Empty when repair may be granted."""
        with self._sessions() as session:
            decisions = session.exec(
                select(Decision)
                .where(Decision.case_id == params.case_id)
                .where(col(Decision.rectification).is_not(None))
                .order_by(col(Decision.decided_at))
            ).all()
            return [
                f"{SANCTION_NAMES[d.kind]}（{d.id}）"
                + ("复查不合格" if d.rectification == RectificationStatus.FAILED else "尚未复查")
                for d in decisions
                if d.rectification != RectificationStatus.PASSED
            ]

    @activity.defn
    def record_repair_step(self, step: RepairStep) -> None:
        key = f"{step.entry_id}:{step.step}"
        if step.step == "lifting-acknowledged":
            key += f":{step.actor.unit}"
        case_id = step.entry_id.removeprefix("credit-")
        with self._sessions() as session:
            if audit.exists(session, key):
                return
            case = session.get(Case, case_id)
            assert case is not None
            notifications = self._notifications(step, case, key)
            self._apply(session, step, case)
            audit.append(
                session,
                AuditEntry(
                    actor=step.actor.label,
                    actor_role=step.actor.role,
                    actor_unit=step.actor.unit,
                    action=f"credit.{step.step}",
                    reason=step.reason,
                    case_id=case.id,
                    institution=case.institution_name,
                    occurred_at=step.at,
                    idempotency_key=key,
                    details={"entry_id": step.entry_id, "pending": step.pending},
                ),
            )
            notify.record(session, notifications, case.institution_name)
            session.commit()

    def _notifications(self, step: RepairStep, case: Case, key: str) -> list[Notification]:
        name = case.institution_name or "涉事机构"

        def notice(kind: NotificationKind, unit: str, title: str, text: str) -> Notification:
            return Notification(
                event_id=f"{key}:{kind}:{unit}",
                occurred_at=step.at,
                kind=kind,
                recipient=unit,
                case_id=case.id,
                priority="high",
                due_at=step.due,
                title=title,
                text=f"{_unit_name(unit)}：\n{text}",
            )

        if step.step == "lifting":
            return [
                notice(
                    NotificationKind.CREDIT_LIFTING,
                    m.department,
                    f"【解除惩戒】{name} {case.id}",
                    f"{name}的失信信息已终止公示、停止共享（{step.reason}）。请你单位同步解除"
                    f"以下惩戒措施：{m.measure}\n并于 {beijing(step.due)} 前反馈解除情况。",
                )
                for m in self._policy.measures
                if m.department in step.pending
            ]
        if step.step == "lifting-reminded":
            return [
                notice(
                    NotificationKind.REMINDER,
                    unit,
                    f"【催办】解除联合惩戒措施反馈 {case.id}",
                    f"你单位尚未反馈对{name}的惩戒措施解除情况，请于 {beijing(step.due)} 前"
                    "解除并反馈，逾期将报领导小组办公室。",
                )
                for unit in step.pending
            ]
        if step.step == "lifting-escalated":
            pending = "、".join(_unit_name(u) for u in step.pending)
            return [
                notice(
                    NotificationKind.ESCALATION,
                    LEADING_OFFICE,
                    f"【督办】联合惩戒措施未同步解除 {case.id}",
                    f"{name}已完成信用修复或公示期满，以下单位逾期未反馈惩戒措施解除情况："
                    f"{pending}。请督办。",
                )
            ]
        return []

    def _apply(self, session: Session, step: RepairStep, case: Case) -> None:
        entry = session.get(CreditEntry, step.entry_id)
        summaries = {
            "not-published": (
                IntegrityKind.CREDIT_NOTICE,
                f"轻微失信信息，依法不予公示：{step.reason}",
            ),
            "committed": (IntegrityKind.CREDIT_COMMITMENT, f"机构公开作出信用承诺：{step.reason}"),
            "lifting": (
                IntegrityKind.CREDIT_LIFTING,
                f"同步解除联合惩戒措施：已通知{'、'.join(_unit_name(u) for u in step.pending)}",
            ),
            "lifting-acknowledged": (
                IntegrityKind.CREDIT_LIFTING,
                f"{_unit_name(step.actor.unit or '')}已解除惩戒措施",
            ),
            "lifting-reminded": (
                IntegrityKind.CREDIT_LIFTING,
                f"催办解除惩戒措施：{'、'.join(_unit_name(u) for u in step.pending)}",
            ),
            "lifting-escalated": (
                IntegrityKind.CREDIT_LIFTING,
                f"逾期未解除惩戒措施，报领导小组办公室督办："
                f"{'、'.join(_unit_name(u) for u in step.pending)}",
            ),
            "lifted": (IntegrityKind.CREDIT_LIFTING, "各成员单位惩戒措施已全部解除"),
        }
        if entry is not None and step.step == "committed":
            entry.commitment_at = step.at
            session.add(entry)
        if entry is not None and step.step == "lifted":
            entry.lifted_at = step.at
            session.add(entry)
        if step.step == "lifting-escalated":
            for unit in step.pending:
                session.add(
                    UnitRecord(
                        key=f"{step.entry_id}:lifting-unacknowledged:{unit}",
                        unit=unit,
                        case_id=case.id,
                        kind=UnitRecordKind.ESCALATED,
                        reason="逾期未反馈联合惩戒措施解除情况",
                        occurred_at=step.at,
                    )
                )
        if step.step in summaries:
            kind, summary = summaries[step.step]
            suffix = f":{step.actor.unit}" if step.step == "lifting-acknowledged" else ""
            integrity.append(
                session,
                key=f"{step.entry_id}:{step.step}{suffix}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=kind,
                case_id=case.id,
                summary=summary,
                occurred_at=step.at,
                details={"entry_id": step.entry_id, "pending": step.pending},
            )
