"""Enforcement activities: bans, decisions, re-inspections and the credit platform steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra import audit, integrity, notify, outbox, reference
from infra.credit_platform import CreditPlatform
from infra.credit_tiers import UnknownSanction
from infra.db import SessionFactory
from infra.deadlines import plan_credit
from infra.workdays import add_working_days
from models import topics
from models.audit import AuditEntry
from models.bans import Ban, BanRole, BanStatus
from models.cases import Case, UnitRecord, UnitRecordKind
from models.credit import (
    CreditEntry,
    CreditPlan,
    CreditPlatformEvent,
    CreditStatus,
    CreditStep,
    EnforcementPolicy,
    PlanCredit,
)
from models.enforcement import (
    BanIssued,
    CorrectBan,
    Decision,
    IssueBans,
    RecordDecision,
    RecordReinspection,
    RectificationStatus,
    RemindReinspection,
    SanctionKind,
)
from models.institutions import Institution
from models.integrity import IntegrityKind
from models.notifications import Notification, NotificationKind
from models.people import PersonRef
from models.staff import Employment
from workflows.enforcement.credit_activities import CreditRepairActivities
from workflows.enforcement.texts import SANCTION_NAMES, beijing

ACTOR = "system:enforcement"
LEADING_OFFICE = "leading-office"


def _unit_name(code: str) -> str:
    unit = reference.units().get(code)
    return unit.name if unit else code


def _notice(
    key: str,
    kind: NotificationKind,
    recipient: str,
    at: datetime,
    title: str,
    text: str,
    case_id: str | None,
    due_at: datetime | None = None,
) -> Notification:
    return Notification(
        event_id=f"{key}:{kind}:{recipient}",
        occurred_at=at,
        kind=kind,
        recipient=recipient,
        case_id=case_id,
        priority="high",
        due_at=due_at,
        title=title,
        text=f"{_unit_name(recipient)}：\n{text}",
    )


class EnforcementActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        policy: EnforcementPolicy,
        platform: CreditPlatform | None = None,
    ) -> None:
        self._sessions = session_factory
        self._policy = policy
        self._platform = platform

    def all(self) -> list[Any]:
        return [
            self.issue_bans,
            self.correct_ban,
            self.record_decision,
            self.record_reinspection,
            self.remind_reinspection,
            self.plan_credit,
            self.record_credit_step,
            *CreditRepairActivities(self._sessions, self._policy).all(),
        ]

    # -- lifetime bans -----------------------------------------------------------------------

    @activity.defn
    def issue_bans(self, params: IssueBans) -> list[BanIssued]:
        """Ban each person named and their direct manager at the time of the abuse."""
        issued: list[BanIssued] = []
        with self._sessions() as session:
            case = session.get(Case, params.case_id)
            assert case is not None
            for person in params.persons:
                issued.append(self._ban(session, case, person, BanRole.PERPETRATOR, params))
                for manager in self._managers_at(session, case, person, params.abuse_at):
                    issued.append(self._ban(session, case, manager, BanRole.DIRECT_MANAGER, params))
            session.commit()
        return list({b.ban_id: b for b in issued}.values())

    @staticmethod
    def _managers_at(
        session: Session, case: Case, person: PersonRef, at: datetime
    ) -> list[PersonRef]:
        query = (
            select(Employment)
            .where(Employment.person_hash == person.id_hash)
            .where(col(Employment.valid_from) <= at)
            .where(or_(col(Employment.valid_to).is_(None), col(Employment.valid_to) > at))
        )
        if case.institution_id:
            query = query.where(Employment.institution_id == case.institution_id)
        managers: list[PersonRef] = []
        for line in session.exec(query).all():
            if line.manager_hash is None:
                continue
            known = session.exec(
                select(Employment)
                .where(Employment.person_hash == line.manager_hash)
                .order_by(col(Employment.valid_from).desc())
            ).first()
            if known is not None:
                managers.append(
                    PersonRef(
                        id_hash=known.person_hash, id_masked=known.person_masked, name=known.name
                    )
                )
        return managers

    def _ban(
        self, session: Session, case: Case, person: PersonRef, role: BanRole, params: IssueBans
    ) -> BanIssued:
        ban_id = f"{case.id}:{role}:{person.id_hash[:16]}"
        if session.get(Ban, ban_id) is None:
            session.add(
                Ban(
                    id=ban_id,
                    person_hash=person.id_hash,
                    person_masked=person.id_masked,
                    name=person.name,
                    role=role,
                    case_id=case.id,
                    institution_id=case.institution_id,
                    legal_basis=self._policy.ban_legal_basis,
                    reason=params.reason,
                    banned_at=params.decided_at,
                )
            )
            what = "虐童行为人" if role is BanRole.PERPETRATOR else "直接管理人员"
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="ban.issued",
                    reason=params.reason,
                    case_id=case.id,
                    institution=case.institution_name,
                    occurred_at=params.decided_at,
                    idempotency_key=f"ban:{ban_id}",
                    person_hash=person.id_hash,
                    details={"ban_id": ban_id, "person": person.id_masked, "role": role},
                ),
            )
            integrity.append(
                session,
                key=f"ban:{ban_id}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=IntegrityKind.BAN,
                case_id=case.id,
                summary=f"{what} {person.name}（{person.id_masked}）终身禁入",
                occurred_at=params.decided_at,
                details={"ban_id": ban_id, "role": role},
            )
        return BanIssued(
            ban_id=ban_id,
            person_hash=person.id_hash,
            person_masked=person.id_masked,
            name=person.name,
            role=role,
        )

    @activity.defn
    def correct_ban(self, params: CorrectBan) -> bool:
        """Lift a ban by an authorised correction; the row and its history stay."""
        assert params.at is not None
        with self._sessions() as session:
            ban = session.get(Ban, params.ban_id)
            if ban is None:
                return False
            if ban.status == BanStatus.CORRECTED:
                return True
            ban.status, ban.corrected_at = BanStatus.CORRECTED, params.at
            ban.corrected_by, ban.correction_reason = params.actor.label, params.reason
            session.add(ban)
            case = session.get(Case, ban.case_id)
            assert case is not None
            self._audit(
                session,
                "ban.corrected",
                f"ban-correction:{ban.id}",
                case,
                params.at,
                actor=params.actor.label,
                role=params.actor.role,
                unit=params.actor.unit,
                reason=params.reason,
                person_hash=ban.person_hash,
                ban_id=ban.id,
                person=ban.person_masked,
            )
            integrity.append(
                session,
                key=f"ban-correction:{ban.id}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=IntegrityKind.BAN,
                case_id=case.id,
                summary=f"{ban.name}（{ban.person_masked}）终身禁入决定已更正：{params.reason}",
                occurred_at=params.at,
                details={"ban_id": ban.id},
            )
            session.commit()
        return True

    # -- decisions ---------------------------------------------------------------------------

    @activity.defn
    def record_decision(self, params: RecordDecision) -> datetime | None:
        """Persist a sanction and dispatch it to the registrar and the town; returns the
        rectification deadline, if any."""
        d = params.decision
        rectify_by = (
            add_working_days(params.decided_at, d.rectify_within_days)
            if d.kind is SanctionKind.RECTIFICATION and d.rectify_within_days
            else None
        )
        with self._sessions() as session:
            case = session.get(Case, params.case_id)
            assert case is not None
            institution = session.get(Institution, case.institution_id or "")
            recipients = [institution.registrar if institution else None, case.town]
            name = SANCTION_NAMES[d.kind]
            extra = f"罚款金额：{d.fine_yuan}元。" if d.fine_yuan else ""
            if rectify_by:
                extra += f"整改期限：{beijing(rectify_by)}前，期满复查。"
            notifications = [
                _notice(
                    params.decision_id,
                    NotificationKind.DECISION,
                    unit,
                    params.decided_at,
                    f"【处理决定】{name} {case.institution_name or ''} {case.id}",
                    f"{_unit_name(params.actor.unit or '')}对{case.institution_name or '涉事机构'}"
                    f"作出{name}决定（案件 {case.id}）。\n依据：{d.legal_basis}\n"
                    f"理由：{d.reason}\n{extra}请依职责配合落实。",
                    case.id,
                    rectify_by,
                )
                for unit in dict.fromkeys(u for u in recipients if u)
            ]
            if session.get(Decision, params.decision_id) is not None:
                return rectify_by
            session.add(
                Decision(
                    id=params.decision_id,
                    case_id=case.id,
                    institution_key=case.institution_key or f"case:{case.id}",
                    kind=d.kind,
                    legal_basis=d.legal_basis,
                    reason=d.reason,
                    deciding_unit=params.actor.unit or "",
                    decided_by=params.actor.label,
                    decided_at=params.decided_at,
                    fine_yuan=d.fine_yuan,
                    rectify_by=rectify_by,
                    rectification=RectificationStatus.PENDING if rectify_by else None,
                )
            )
            self._audit(
                session,
                "decision.made",
                params.decision_id,
                case,
                params.decided_at,
                actor=params.actor.label,
                role=params.actor.role,
                unit=params.actor.unit,
                reason=d.reason,
                kind=d.kind,
                legal_basis=d.legal_basis,
            )
            integrity.append(
                session,
                key=f"decision:{params.decision_id}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=IntegrityKind.DECISION,
                case_id=case.id,
                summary=(
                    f"{_unit_name(params.actor.unit or '')} "
                    f"作出{SANCTION_NAMES[d.kind]}决定：{d.reason}"
                ),
                occurred_at=params.decided_at,
                details={
                    "decision_id": params.decision_id,
                    "kind": d.kind,
                    "legal_basis": d.legal_basis,
                    "fine_yuan": str(d.fine_yuan) if d.fine_yuan else None,
                    "rectify_by": rectify_by.isoformat() if rectify_by else None,
                },
            )
            notify.record(session, notifications, case.institution_name)
            session.commit()
        return rectify_by

    @activity.defn
    def remind_reinspection(self, params: RemindReinspection) -> None:
        """The rectification deadline passed with no re-inspection: remind the deciding unit
        and the town, once."""
        key = f"{params.decision_id}:reinspection-due"
        with self._sessions() as session:
            case = session.get(Case, params.case_id)
            decision = session.get(Decision, params.decision_id)
            assert case is not None and decision is not None
            notifications = [
                _notice(
                    key,
                    NotificationKind.REMINDER,
                    unit,
                    params.at,
                    f"【复查提醒】{case.institution_name or ''} {case.id}",
                    f"{case.institution_name or '涉事机构'}的整改期限已于 {beijing(params.due)} "
                    "届满，尚未登记复查结果。请及时组织复查，不合格的依法从重处理。",
                    case.id,
                    params.due,
                )
                for unit in dict.fromkeys([decision.deciding_unit, case.town])
            ]
            if audit.exists(session, key):
                return
            self._audit(
                session,
                "decision.reinspection-due",
                key,
                case,
                params.at,
                decision_id=params.decision_id,
            )
            notify.record(session, notifications, case.institution_name)
            session.commit()

    @activity.defn
    def record_reinspection(self, params: RecordReinspection) -> None:
        r = params.reinspection
        key = f"{r.decision_id}:reinspection"
        with self._sessions() as session:
            case = session.get(Case, params.case_id)
            decision = session.get(Decision, r.decision_id)
            assert case is not None and decision is not None
            failed = [] if r.passed else [LEADING_OFFICE, decision.deciding_unit]
            notifications = [
                _notice(
                    key,
                    NotificationKind.REINSPECTION_FAILED,
                    unit,
                    params.at,
                    f"【复查不合格】{case.institution_name or ''} {case.id}",
                    f"{case.institution_name or '涉事机构'}未按期完成整改（案件 {case.id}）。\n"
                    f"复查情况：{r.findings}\n请依法从重处理，可追加处罚措施。",
                    case.id,
                )
                for unit in dict.fromkeys(failed)
            ]
            if audit.exists(session, key):
                return
            decision.rectification = (
                RectificationStatus.PASSED if r.passed else RectificationStatus.FAILED
            )
            session.add(decision)
            self._audit(
                session,
                "decision.reinspected",
                key,
                case,
                params.at,
                actor=params.actor.label,
                role=params.actor.role,
                unit=params.actor.unit,
                reason=r.findings,
                passed=r.passed,
            )
            integrity.append(
                session,
                key=f"reinspection:{r.decision_id}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=IntegrityKind.REINSPECTION,
                case_id=case.id,
                summary=f"整改复查{'合格' if r.passed else '不合格'}：{r.findings}",
                occurred_at=params.at,
                details={"decision_id": r.decision_id, "passed": r.passed},
            )
            notify.record(session, notifications, case.institution_name)
            session.commit()

    # -- joint punishment ----------------------------------------------------------------------

    @activity.defn
    def plan_credit(self, params: PlanCredit) -> CreditPlan:
        try:
            plan = plan_credit(self._policy, params)
        except UnknownSanction as err:  # the API refuses it first; never retried
            raise ApplicationError(
                f"unknown sanction {err}", type="UnknownSanction", non_retryable=True
            ) from None
        if params.stage in ("entry", "lifting"):
            plan.departments = list(dict.fromkeys(m.department for m in self._policy.measures))
        return plan

    @activity.defn
    def record_credit_step(self, step: CreditStep) -> None:
        key = f"{step.entry_id}:{step.step}"
        if step.step == "acknowledged":
            key += f":{step.actor.unit}"
        elif step.step.startswith("repair-"):
            key += f":{step.at.isoformat()}"  # may be asked and reviewed more than once
        with self._sessions() as session:
            entry = session.get(CreditEntry, step.entry_id)
            case_id = entry.case_id if entry else step.entry_id.removeprefix("credit-")
            case = session.get(Case, case_id)
            assert case is not None
            institution = session.get(Institution, case.institution_id or "")
            notifications = self._credit_notifications(step, case, key)
            event = self._platform_event(step, case, institution, entry)
            if not audit.exists(session, key):
                if event is not None:
                    outbox.enqueue(
                        session,
                        topics.CREDIT_PLATFORM,
                        case.institution_id or case.institution_key or case.id,
                        event.model_dump_json().encode(),
                    )
                self._apply_credit_step(session, step, case, entry)
                self._audit(
                    session,
                    f"credit.{step.step}",
                    key,
                    case,
                    step.at,
                    actor=step.actor.label,
                    role=step.actor.role,
                    unit=step.actor.unit,
                    reason=step.reason,
                    entry_id=step.entry_id,
                    pending=step.pending,
                )
                notify.record(session, notifications, case.institution_name)
                session.commit()
        # The platform's HTTP call stays out of the transaction (a SQLite writer would hold all
        # others for up to its 10 s timeout). Made on every attempt, after the commit: at least
        # once; the platform drops repeats by the event id.
        if event is not None and self._platform is not None:
            self._platform.send(event)

    def _credit_notifications(self, step: CreditStep, case: Case, key: str) -> list[Notification]:
        name = case.institution_name or "涉事机构"
        departments = [m.department for m in self._policy.measures]
        if step.step == "noticed":
            text = (
                f"拟将{name}违法失信信息（案件 {case.id}）纳入凯里市社会公共信用信息"
                f"共享平台并实施联合惩戒。\n事由：{step.reason}\n"
                f"请转告该机构：如有异议，可于 {beijing(step.plan.objection_by)} 前提出。"
            )
            return [
                _notice(
                    key,
                    NotificationKind.PRIOR_NOTICE,
                    case.town,
                    step.at,
                    f"【事先告知】{name} 联合惩戒 {case.id}",
                    text,
                    case.id,
                    step.plan.objection_by,
                )
            ]
        if step.step == "published":
            return [
                _notice(
                    key,
                    NotificationKind.JOINT_PUNISHMENT,
                    m.department,
                    step.at,
                    f"【联合惩戒】{name} {case.id}",
                    f"{name}已纳入失信名单（公示至 {beijing(step.plan.publicity_until)}）。\n"
                    f"事由：{step.reason}\n请你单位实施以下惩戒措施：{m.measure}\n依据：{m.legal_basis}\n"
                    f"请于 {beijing(step.plan.acknowledge_by)} 前反馈落实情况。",
                    case.id,
                    step.plan.acknowledge_by,
                )
                for m in self._policy.measures
            ]
        if step.step == "reminded":
            return [
                _notice(
                    key,
                    NotificationKind.REMINDER,
                    unit,
                    step.at,
                    f"【催办】联合惩戒措施落实反馈 {case.id}",
                    f"你单位尚未反馈对{name}的联合惩戒措施落实情况，请于 "
                    f"{beijing(step.plan.acknowledge_final_by)} 前反馈，逾期将报领导小组办公室。",
                    case.id,
                    step.plan.acknowledge_final_by,
                )
                for unit in step.pending
            ]
        if step.step == "escalated":
            pending = "、".join(_unit_name(u) for u in step.pending)
            return [
                _notice(
                    key,
                    NotificationKind.ESCALATION,
                    LEADING_OFFICE,
                    step.at,
                    f"【督办】联合惩戒措施未反馈 {case.id}",
                    f"以下单位逾期未反馈对{name}的联合惩戒措施落实情况：{pending}。请督办。",
                    case.id,
                )
            ]
        if step.step == "removed" and not step.order36:  # Order 36: lifting is chased
            return [
                _notice(
                    key,
                    NotificationKind.CREDIT_REMOVAL,
                    unit,
                    step.at,
                    f"【信用信息移出】{name} {case.id}",
                    f"{name}的失信信息已于今日移出共享平台（{step.reason}），请相应停止惩戒措施。",
                    case.id,
                )
                for unit in departments
            ]
        return []

    def _platform_event(
        self,
        step: CreditStep,
        case: Case,
        institution: Institution | None,
        entry: CreditEntry | None,
    ) -> CreditPlatformEvent | None:
        if step.step not in ("published", "removed") or entry is None:
            return None
        return CreditPlatformEvent(
            event_id=f"{step.entry_id}:{step.step}",
            occurred_at=step.at,
            action="entry" if step.step == "published" else "removal",
            entry_id=step.entry_id,
            institution_id=institution.id if institution else None,
            institution_name=case.institution_name,
            serious=entry.serious,
            reason=entry.reason,
            legal_basis=entry.legal_basis,
            publicity_until=step.plan.publicity_until,
            # The measures every member department applies, as their dispatches carry them.
            measures=self._policy.measures if step.step == "published" or step.order36 else [],
            tier=step.plan.tier,
            repaired=step.repaired,
            sharing_stopped=step.order36 and step.step == "removed",
        )

    def _apply_credit_step(
        self, session: Session, step: CreditStep, case: Case, entry: CreditEntry | None
    ) -> None:
        if step.step == "noticed":
            entry = CreditEntry(
                id=step.entry_id,
                case_id=case.id,
                institution_key=case.institution_key or f"case:{case.id}",
                institution_name=case.institution_name,
                serious=step.serious,
                reason=step.reason or "",
                legal_basis=step.legal_basis,
                status=CreditStatus.NOTICED,
                noticed_at=step.at,
                objection_by=step.plan.objection_by,
                tier=step.plan.tier,
            )
        assert entry is not None
        kinds = {
            "noticed": IntegrityKind.CREDIT_NOTICE,
            "published": IntegrityKind.CREDIT_ENTRY,
            "removed": IntegrityKind.CREDIT_REMOVAL,
        }
        if step.step == "objected":
            entry.status = CreditStatus.OBJECTED
        elif step.step == "withdrawn":
            entry.status = CreditStatus.WITHDRAWN
        elif step.step == "published":
            entry.status, entry.published_at = CreditStatus.PUBLISHED, step.at
            entry.publicity_until = step.plan.publicity_until
        elif step.step == "removed":
            entry.status, entry.removed_at, entry.removal_reason = (
                CreditStatus.REMOVED,
                step.at,
                step.reason,
            )
        elif step.step == "escalated":
            for unit in step.pending:
                session.add(
                    UnitRecord(
                        key=f"{step.entry_id}:unacknowledged:{unit}",
                        unit=unit,
                        case_id=case.id,
                        kind=UnitRecordKind.ESCALATED,
                        reason="逾期未反馈联合惩戒措施落实情况",
                        occurred_at=step.at,
                    )
                )
        session.add(entry)
        if step.step in kinds:
            integrity.append(
                session,
                key=f"{step.entry_id}:{step.step}",
                institution_key=case.institution_key,
                institution_name=case.institution_name,
                kind=kinds[step.step],
                case_id=case.id,
                summary={
                    "noticed": f"事先告知：拟纳入失信名单实施联合惩戒，事由：{step.reason}",
                    "published": (
                        f"纳入失信名单，实施联合惩戒，公示至 {beijing(step.plan.publicity_until)}"
                    ),
                    "removed": f"失信信息移出共享平台：{step.reason}",
                }.get(step.step, ""),
                occurred_at=step.at,
                details={"entry_id": step.entry_id},
            )

    @staticmethod
    def _audit(
        session: Session,
        action: str,
        key: str,
        case: Case,
        at: datetime,
        *,
        actor: str = ACTOR,
        role: str = "system",
        unit: str | None = None,
        reason: str | None = None,
        person_hash: str | None = None,
        **details: Any,
    ) -> None:
        audit.append(
            session,
            AuditEntry(
                actor=actor,
                actor_role=role,
                actor_unit=unit,
                action=action,
                reason=reason,
                person_hash=person_hash,
                case_id=case.id,
                institution=case.institution_name,
                occurred_at=at,
                idempotency_key=key,
                details=details,
            ),
        )
