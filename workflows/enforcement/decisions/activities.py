"""Decision activities: record a sanction, remind of an overdue re-inspection, record one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import activity

from infra import audit, notify
from infra.db import SessionFactory
from infra.workdays import add_working_days
from models.cases import Case
from models.enforcement import (
    Decision,
    RecordDecision,
    RecordReinspection,
    RectificationStatus,
    RemindReinspection,
    SanctionKind,
)
from models.institutions import Institution
from models.integrity import IntegrityKind
from models.notifications import NotificationKind
from workflows.enforcement import texts
from workflows.enforcement.common import LEADING_OFFICE, audit_step, file_line, notice, unit_name
from workflows.enforcement.texts import SANCTION_NAMES, beijing


class DecisionActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_decision, self.record_reinspection, self.remind_reinspection]

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
            sanction = SANCTION_NAMES[d.kind]
            extra = texts.FINE_AMOUNT.format(fine=d.fine_yuan) if d.fine_yuan else ""
            if rectify_by:
                extra += texts.RECTIFY_BY.format(rectify_by=beijing(rectify_by))
            deciding_unit = unit_name(params.actor.unit or "")
            title, text = texts.DECISION
            notifications = [
                notice(
                    params.decision_id,
                    NotificationKind.DECISION,
                    unit,
                    params.decided_at,
                    title.format(
                        sanction=sanction, institution=case.institution_name or "", case=case.id
                    ),
                    text.format(
                        unit=deciding_unit,
                        name=case.institution_name or "涉事机构",
                        sanction=sanction,
                        case=case.id,
                        legal_basis=d.legal_basis,
                        reason=d.reason,
                        extra=extra,
                    ),
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
            audit_step(
                session,
                "decision.made",
                params.decision_id,
                case,
                params.decided_at,
                by=params.actor,
                reason=d.reason,
                kind=d.kind,
                legal_basis=d.legal_basis,
            )
            file_line(
                session,
                case,
                f"decision:{params.decision_id}",
                IntegrityKind.DECISION,
                texts.DECISION_SUMMARY.format(
                    unit=deciding_unit, sanction=sanction, reason=d.reason
                ),
                params.decided_at,
                decision_id=params.decision_id,
                kind=d.kind,
                legal_basis=d.legal_basis,
                fine_yuan=str(d.fine_yuan) if d.fine_yuan else None,
                rectify_by=rectify_by.isoformat() if rectify_by else None,
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
            title, text = texts.REINSPECTION_DUE
            notifications = [
                notice(
                    key,
                    NotificationKind.REMINDER,
                    unit,
                    params.at,
                    title.format(institution=case.institution_name or "", case=case.id),
                    text.format(name=case.institution_name or "涉事机构", due=beijing(params.due)),
                    case.id,
                    params.due,
                )
                for unit in dict.fromkeys([decision.deciding_unit, case.town])
            ]
            if audit.exists(session, key):
                return
            audit_step(
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
            title, text = texts.REINSPECTION_FAILED
            notifications = [
                notice(
                    key,
                    NotificationKind.REINSPECTION_FAILED,
                    unit,
                    params.at,
                    title.format(institution=case.institution_name or "", case=case.id),
                    text.format(
                        name=case.institution_name or "涉事机构", case=case.id, findings=r.findings
                    ),
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
            audit_step(
                session,
                "decision.reinspected",
                key,
                case,
                params.at,
                by=params.actor,
                reason=r.findings,
                passed=r.passed,
            )
            file_line(
                session,
                case,
                f"reinspection:{r.decision_id}",
                IntegrityKind.REINSPECTION,
                texts.REINSPECTION_SUMMARY.format(
                    result=texts.PASSED if r.passed else texts.FAILED, findings=r.findings
                ),
                params.at,
                decision_id=r.decision_id,
                passed=r.passed,
            )
            notify.record(session, notifications, case.institution_name)
            session.commit()
