"""The `open_case` activity, as a mixin of `CaseActivities`: a new case persisted and routed
(`routing`), or joined to an open duplicate, with its first audit record; safe to repeat."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from infra import audit, reference
from infra.db import SessionFactory
from infra.deadlines import plan
from infra.duplicates import done_case, institution_key, open_duplicate, units_of
from infra.vault import Vault
from models.audit import AuditEntry
from models.cases import Case, CaseLink, CaseStatus, ComplainantContact
from models.deadlines import DeadlinePolicy, PlanRound
from models.institutions import Institution
from models.workflow_io import OpenCaseInput, OpenCaseResult
from workflows.cases.routing import route

ACTOR = "system:case-workflow"


class CaseOpening:
    _sessions: SessionFactory
    _policy: DeadlinePolicy
    _vault: Vault

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
