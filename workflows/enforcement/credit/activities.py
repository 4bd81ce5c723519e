"""Credit activities: plan a joint punishment's periods, record one of its steps (rows,
audit, dispatches, and the event for the credit platform), as `steps.STEPS` says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra import audit, notify, outbox
from infra.credit_platform import CreditPlatform
from infra.credit_tiers import UnknownSanction
from infra.db import SessionFactory
from infra.deadlines import plan_credit
from models import topics
from models.cases import Case
from models.credit import (
    CreditEntry,
    CreditPlan,
    CreditPlatformEvent,
    CreditStatus,
    CreditStep,
    EnforcementPolicy,
    PlanCredit,
    case_of_credit_entry,
)
from models.credit_steps import CreditStage
from models.institutions import Institution
from workflows.enforcement.credit import steps
from workflows.enforcement.credit.steps import Facts


class CreditActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        policy: EnforcementPolicy,
        platform: CreditPlatform | None = None,
    ) -> None:
        self._sessions = session_factory
        self._policy = policy
        self._platform = platform

    def all(self) -> list[Callable[..., Any]]:
        return [self.plan_credit, self.record_credit_step]

    @activity.defn
    def plan_credit(self, params: PlanCredit) -> CreditPlan:
        try:
            plan = plan_credit(self._policy, params)
        except UnknownSanction as err:  # the API refuses it first; never retried
            raise ApplicationError(
                f"unknown sanction {err}", type="UnknownSanction", non_retryable=True
            ) from None
        if params.stage in (CreditStage.ENTRY, CreditStage.LIFTING):
            plan.departments = list(dict.fromkeys(m.department for m in self._policy.measures))
        return plan

    @activity.defn
    def record_credit_step(self, step: CreditStep) -> None:
        facts = Facts.of(step)
        key = steps.key(facts)
        with self._sessions() as session:
            entry = session.get(CreditEntry, step.entry_id)
            case_id = entry.case_id if entry else case_of_credit_entry(step.entry_id)
            case = session.get(Case, case_id)
            assert case is not None
            institution = session.get(Institution, case.institution_id or "")
            notifications = steps.dispatches(facts, case, self._policy.measures, key)
            event = self._platform_event(step, case, institution, entry)
            if not audit.exists(session, key):
                if event is not None:
                    outbox.enqueue(
                        session,
                        topics.CREDIT_PLATFORM,
                        case.institution_id or case.institution_key or case.id,
                        event.model_dump_json().encode(),
                    )
                if steps.STEPS[step.step].opens:
                    entry = self._opened(step, case)
                assert entry is not None
                steps.apply(session, facts, case, entry, key)
                steps.audit(session, step, case, key)
                notify.record(session, notifications, case.institution_name)
                session.commit()
        # The platform's HTTP call stays out of the transaction (a SQLite writer would hold all
        # others for up to its 10 s timeout). Made on every attempt, after the commit: at least
        # once; the platform drops repeats by the event id.
        if event is not None and self._platform is not None:
            self._platform.send(event)

    @staticmethod
    def _opened(step: CreditStep, case: Case) -> CreditEntry:
        return CreditEntry(
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

    def _platform_event(
        self,
        step: CreditStep,
        case: Case,
        institution: Institution | None,
        entry: CreditEntry | None,
    ) -> CreditPlatformEvent | None:
        action = steps.STEPS[step.step].platform
        if action is None or entry is None:
            return None
        return CreditPlatformEvent(
            event_id=f"{step.entry_id}:{step.step}",
            occurred_at=step.at,
            action=action,
            entry_id=step.entry_id,
            institution_id=institution.id if institution else None,
            institution_name=case.institution_name,
            serious=entry.serious,
            reason=entry.reason,
            legal_basis=entry.legal_basis,
            publicity_until=step.plan.publicity_until,
            # The measures every member department applies, as their dispatches carry them.
            measures=self._policy.measures if action == "entry" or step.order36 else [],
            tier=step.plan.tier,
            repaired=step.repaired,
            sharing_stopped=step.order36 and action == "removal",
        )
