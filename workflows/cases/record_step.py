"""The `record_step` activity, as a mixin of `CaseActivities`: one step of a case persisted
(the case row, its rounds and assignments, records against units), audited, its
notifications rendered and put in the outbox, and a resolved case's outcome in the
institution's integrity file; one transaction, exactly once (keyed by the step)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select
from temporalio import activity

from infra import audit, integrity, notify, reference
from infra.db import SessionFactory
from models.audit import AuditEntry
from models.cases import Case, CaseAssignment, CaseRound, Level, Outcome, UnitRecord
from models.integrity import IntegrityKind
from models.workflow_io import RecordStep
from workflows.cases.texts import render

OUTCOME_NAMES = {
    Outcome.SUBSTANTIATED: "属实",
    Outcome.PARTLY_SUBSTANTIATED: "部分属实",
    Outcome.UNSUBSTANTIATED: "不属实",
    Outcome.ANSWERED: "已答复",
}


class StepRecording:
    _sessions: SessionFactory

    @activity.defn
    def record_step(self, step: RecordStep) -> None:
        """Persist the step, its audit record and each notification, and put the notifications
        in the outbox: one transaction, exactly once (keyed by the step)."""
        s = step.state
        with self._sessions() as session:
            if audit.exists(session, step.key):
                return
            case = session.get(Case, s.case_id)
            if case is None:
                raise RuntimeError(f"case {s.case_id} is not in the database")
            # Rendered from the case as it was before this step changes it.
            notifications = [render(step, spec, case) for spec in step.notifications]
            self._update_case(session, case, step)
            self._update_rounds(session, step)
            self._update_assignments(session, step)
            for spec in step.unit_records:
                session.add(
                    UnitRecord(
                        key=f"{step.key}:{spec.unit}:{spec.kind}",
                        unit=spec.unit,
                        case_id=s.case_id,
                        kind=spec.kind,
                        reason=spec.reason,
                        occurred_at=step.occurred_at,
                    )
                )
            audit.append(
                session,
                AuditEntry(
                    actor=step.actor.label,
                    actor_role=step.actor.role,
                    actor_unit=step.actor.unit,
                    action=step.action,
                    channel="workflow",
                    reason=step.reason,
                    case_id=s.case_id,
                    institution=case.institution_name,
                    occurred_at=step.occurred_at,
                    idempotency_key=step.key,
                    details={**step.details, "status": s.status, "handler": s.handler},
                ),
            )
            notify.record(session, notifications, case.institution_name)
            if step.action == "case.resolved" and s.outcome is not None:
                info = reference.catalogue()[case.category]
                integrity.append(
                    session,
                    key=f"{step.key}:outcome",
                    institution_key=case.institution_key,
                    institution_name=case.institution_name,
                    kind=IntegrityKind.COMPLAINT_OUTCOME,
                    case_id=s.case_id,
                    summary=f"投诉（{info.name}）经核查{OUTCOME_NAMES[s.outcome]}：{s.findings}",
                    occurred_at=step.occurred_at,
                    details={"outcome": s.outcome, "result_unit": s.result_unit},
                )
            session.commit()

    @staticmethod
    def _update_case(session: Session, case: Case, step: RecordStep) -> None:
        s = step.state
        assert s.status is not None
        case.status = s.status
        case.handler, case.level, case.round = s.handler, s.level, s.round
        case.accept_by, case.resolve_by = s.deadlines.accept_by, s.deadlines.resolve_by
        case.accepted_at, case.resolved_at, case.closed_at = (
            s.accepted_at,
            s.resolved_at,
            s.closed_at,
        )
        case.outcome, case.findings, case.result_unit = s.outcome, s.findings, s.result_unit
        case.satisfied, case.followed_up_at, case.reopened = (
            s.satisfied,
            s.followed_up_at,
            s.reopened,
        )
        case.follow_up_rating, case.problem_solved = s.follow_up_rating, s.problem_solved
        case.pending = (
            "return" if s.return_pending else "extension" if s.extension_pending else None
        )
        case.extended = case.extended or step.action == "case.extension-approved"
        if s.supervisions:
            case.supervisions = len(s.supervisions)
            case.supervised_until = s.supervisions[-1].due_by
        case.updated_at = datetime.now(UTC)
        session.add(case)

    @staticmethod
    def _update_rounds(session: Session, step: RecordStep) -> None:
        s = step.state
        if step.round_end_reason is not None:
            ended = s.round - 1 if step.new_round else s.round
            previous = session.get(CaseRound, (s.case_id, ended))
            if previous is not None and previous.ended_at is None:
                previous.ended_at, previous.end_reason = step.occurred_at, step.round_end_reason
                session.add(previous)
        if step.new_round:
            session.add(
                CaseRound(
                    case_id=s.case_id,
                    round=s.round,
                    unit=s.handler or "",
                    level=s.level or Level.TOWN,
                    dispatched_at=step.occurred_at,
                    accept_by=s.deadlines.accept_by,
                    accepted_at=s.accepted_at,
                    resolve_by=s.deadlines.resolve_by,
                )
            )
            return
        current = session.get(CaseRound, (s.case_id, s.round))
        if current is not None:
            current.accepted_at = s.accepted_at
            current.resolved_at = current.resolved_at or s.resolved_at
            session.add(current)

    @staticmethod
    def _update_assignments(session: Session, step: RecordStep) -> None:
        s = step.state
        roles = {u: "assisting" for u in s.assisting}
        roles.update({u: "collaborator" for u in s.collaborators})
        if s.handler:
            roles[s.handler] = "handler"
        existing = {
            a.unit: a
            for a in session.exec(
                select(CaseAssignment).where(CaseAssignment.case_id == s.case_id)
            ).all()
        }
        for unit, assignment in existing.items():
            role = roles.pop(unit, "former")
            if assignment.role != role:
                assignment.role = role
                session.add(assignment)
        for unit, role in roles.items():
            session.add(
                CaseAssignment(
                    case_id=s.case_id, unit=unit, role=role, assigned_at=step.occurred_at
                )
            )
