"""Activities of the case workflow: the only place it touches the database. What it publishes
goes into the outbox in the same transaction (infra/outbox.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select
from temporalio import activity

from infra import audit, integrity, notify, outbox, reference
from infra.db import SessionFactory
from infra.deadlines import after, plan
from infra.duplicates import done_case, institution_key, open_duplicate, units_of
from infra.settings import get_settings
from infra.vault import Vault, load_vault
from models import topics
from models.audit import AuditEntry
from models.cases import (
    Case,
    CaseAssignment,
    CaseLink,
    CaseRound,
    CaseStatus,
    ComplainantContact,
    Level,
    Outcome,
    Priority,
    UnitRecord,
)
from models.deadlines import DeadlinePolicy, Duration, PlanRound, RoundDeadlines
from models.institutions import Institution
from models.integrity import IntegrityKind
from models.notifications import DeadLetter, DeadLetterSource
from models.workflow_io import (
    DeadlineAfter,
    OpenCaseInput,
    OpenCaseResult,
    RecordStep,
    ReusedEventId,
    Routing,
)
from workflows.cases.texts import render

ACTOR = "system:case-workflow"
REUSED_REASON = "event_id reused with different content"
OUTCOME_NAMES = {
    Outcome.SUBSTANTIATED: "属实",
    Outcome.PARTLY_SUBSTANTIATED: "部分属实",
    Outcome.UNSUBSTANTIATED: "不属实",
    Outcome.ANSWERED: "已答复",
}


def route(town: str, category: reference.CategoryInfo, urgent: bool = False) -> Routing:
    """Non-critical cases go to the town first; critical ones (by category, or marked urgent
    like a first-priority alarm) to the city lead at once, with the town and the other leads
    alongside."""
    if urgent or category.priority is Priority.CRITICAL:
        return Routing(
            priority=Priority.CRITICAL,
            town=town,
            lead=category.lead,
            handler=category.lead[0],
            level=Level.CITY,
            collaborators=[town, *category.lead[1:]],
        )
    return Routing(
        priority=category.priority, town=town, lead=category.lead, handler=town, level=Level.TOWN
    )


class CaseActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        policy: DeadlinePolicy,
        vault: Vault | None = None,
    ) -> None:
        self._sessions = session_factory
        self._policy = policy
        self._vault = vault or load_vault(get_settings())

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.plan_round,
            self.open_case,
            self.record_step,
            self.refuse_reused_event_id,
            self.deadline_after,
        ]

    @activity.defn
    def refuse_reused_event_id(self, params: ReusedEventId) -> None:
        """A complaint under an event id already taken by other content: dead-letter it with
        the original key (its event id, the key of `tuoyu.complaints`) and record it in the
        audit trail. Safe to repeat: the dead letter's id and the audit key are the content's."""
        complaint = params.complaint
        letter = DeadLetter.of(
            complaint.model_dump_json().encode("utf-8"),
            REUSED_REASON,
            # No partition or offset here: the id comes from the content's digest.
            DeadLetterSource(channel=f"{topics.COMPLAINTS} (case workflow)"),
        )
        with self._sessions() as session:
            key = f"{params.case_id}:reused:{params.fingerprint}"
            if audit.exists(session, key):
                return
            outbox.enqueue(
                session, topics.DEAD_LETTER, complaint.event_id, letter.model_dump_json().encode()
            )
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="intake.event-id-reused",
                    channel=complaint.channel,
                    reason="事件编号已被内容不同的投诉使用，本次提交未受理，已转入死信。",
                    outcome="refused",
                    case_id=params.case_id,
                    occurred_at=datetime.now(UTC),
                    idempotency_key=key,
                    details={
                        "event_id": complaint.event_id,
                        "fingerprint": params.fingerprint,
                        "first_fingerprint": params.first_fingerprint,
                        "dead_letter": letter.event_id,
                    },
                ),
            )
            session.commit()

    @activity.defn
    def deadline_after(self, params: DeadlineAfter) -> datetime:
        """An extension's new date, or the next reminder after 通报约谈: calendar work stays
        out of the workflow, recorded once in its history."""
        if params.working_days is not None:
            return after(params.start, Duration(working_days=params.working_days))
        assert params.policy is not None
        return after(params.start, getattr(self._policy, params.policy))

    @activity.defn
    def plan_round(self, params: PlanRound) -> RoundDeadlines:
        """Deadlines come from configuration and the holiday calendar, so not from workflow
        code: recorded once here, a later calendar update cannot change a running case."""
        return plan(self._policy, params)

    @activity.defn
    def open_case(self, params: OpenCaseInput) -> OpenCaseResult:
        """Persist the case (or its joining an open duplicate) and its first audit record;
        safe to repeat."""
        complaint = params.complaint
        with self._sessions() as session:
            institution = (
                session.get(Institution, complaint.institution_id)
                if complaint.institution_id
                else None
            )
            # Jurisdiction: the registry's town for a known institution, else the reported one.
            town = institution.town if institution is not None else complaint.town
            name = institution.name if institution is not None else complaint.institution_name
            routing = route(town, reference.catalogue()[complaint.category], complaint.urgent)
            # The first round's deadlines, here rather than in a local activity of their own.
            deadlines = (
                plan(self._policy, PlanRound(start=params.now, priority=routing.priority))
                if params.now is not None
                else None
            )
            key = institution_key(complaint, institution)
            existing = session.get(Case, params.case_id)
            if existing is not None and (
                existing.status != CaseStatus.MERGED or params.allow_merge
            ):
                return OpenCaseResult(
                    routing=routing,
                    institution_name=name,
                    merged_into=existing.merged_into,
                    deadlines=deadlines,
                    related_to=existing.related_to,
                    related_units=units_of(session, existing.related_to)
                    if existing.related_to
                    else [],
                )
            merge = params.allow_merge and complaint.direct_answer is None
            window = self._policy.duplicate_window
            target = (
                open_duplicate(session, complaint, key, window, lock=True)
                if merge and key is not None
                else None
            )
            related = (
                done_case(session, complaint, key, window)
                if key is not None and target is None and existing is None
                else None
            )
            now = datetime.now(UTC)
            case = existing or Case(
                id=params.case_id,
                source_event_id=complaint.event_id,
                received_at=complaint.occurred_at,
                created_at=now,
                workflow_id=params.workflow_id,
                category=complaint.category,
                priority=routing.priority,
                channel=complaint.channel,
                description=complaint.description,
                anonymous=complaint.anonymous,
                confidential=complaint.confidential and not complaint.anonymous,
                status=CaseStatus.DISPATCHED,
                town=town,
                updated_at=now,
            )
            case.institution_id = institution.id if institution is not None else None
            case.institution_name, case.institution_key = name, key
            case.status = CaseStatus.MERGED if target else CaseStatus.DISPATCHED
            case.merged_into = target
            case.handler, case.level = (
                (None, None)
                if target or complaint.direct_answer
                else (routing.handler, routing.level)
            )
            if existing is None:
                case.related_to = related
            if complaint.direct_answer is not None:
                case.knowledge_id = complaint.direct_answer.knowledge_id
            case.updated_at = now
            session.add(case)
            session.flush()
            # Stored sealed, opened only for a viewer who may see it; a history recorded before
            # contacts were sealed at the edge still has it in clear: sealed here.
            contact = self._vault.sealed_complaint(complaint).complainant_sealed
            if existing is None and contact is not None and not complaint.anonymous:
                session.add(
                    ComplainantContact(
                        case_id=params.case_id,
                        sealed=contact.model_dump_json(),
                        taken_by=complaint.taken_by,
                        phone_hash=complaint.caller_hash,
                    )
                )
            if target is not None:
                session.add(
                    CaseLink(
                        case_id=target,
                        linked_case_id=params.case_id,
                        event_id=complaint.event_id,
                        linked_at=now,
                    )
                )
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="case.merged" if target else "case.opened",
                    channel=complaint.channel,
                    case_id=params.case_id,
                    institution=name,
                    occurred_at=complaint.occurred_at,
                    idempotency_key=f"{params.case_id}:{'merged' if target else 'opened'}",
                    reason=f"complaint {complaint.event_id}",
                    details={
                        "event_id": complaint.event_id,
                        "category": complaint.category,
                        "priority": routing.priority,
                        "town": town,
                        "institution_id": case.institution_id,
                        "merged_into": target,
                        "related_to": case.related_to,
                        "confidential": case.confidential,
                    },
                ),
            )
            related_units = units_of(session, related) if related else []
            session.commit()
        activity.logger.info(
            "case %s %s", params.case_id, f"joins {target}" if target else "opened"
        )
        return OpenCaseResult(
            routing=routing,
            institution_name=name,
            merged_into=target,
            deadlines=deadlines,
            related_to=related,
            related_units=related_units,
        )

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
