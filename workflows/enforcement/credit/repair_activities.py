"""Activities of a credit repair under Order 36: the check of the institution's legal
duties, and its steps (commitment, the synchronous lifting of every department's measures:
dispatched, acknowledged, reminded, escalated), as `steps.STEPS` says, each in the audit
trail and the integrity file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import col, select
from temporalio import activity

from infra import audit, notify
from infra.db import SessionFactory
from models.cases import Case
from models.credit import CreditEntry, EnforcementPolicy, case_of_credit_entry
from models.credit_repair import RepairConditions, RepairStep
from models.enforcement import Decision, RectificationStatus
from workflows.enforcement import texts
from workflows.enforcement.credit import steps
from workflows.enforcement.credit.steps import Facts
from workflows.enforcement.texts import SANCTION_NAMES


class CreditRepairActivities:
    def __init__(self, session_factory: SessionFactory, policy: EnforcementPolicy) -> None:
        self._sessions = session_factory
        self._policy = policy

    def all(self) -> list[Callable[..., Any]]:
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
                texts.OUTSTANDING.format(
                    sanction=SANCTION_NAMES[d.kind],
                    decision=d.id,
                    state=texts.FAILED_REINSPECTION
                    if d.rectification == RectificationStatus.FAILED
                    else texts.NOT_REINSPECTED,
                )
                for d in decisions
                if d.rectification != RectificationStatus.PASSED
            ]

    @activity.defn
    def record_repair_step(self, step: RepairStep) -> None:
        facts = Facts.of(step)
        key = steps.key(facts)
        with self._sessions() as session:
            if audit.exists(session, key):
                return
            case = session.get(Case, case_of_credit_entry(step.entry_id))
            assert case is not None
            notifications = steps.dispatches(facts, case, self._policy.measures, key)
            entry = session.get(CreditEntry, step.entry_id)
            steps.apply(session, facts, case, entry, key, pending=step.pending)
            steps.audit(session, step, case, key)
            notify.record(session, notifications, case.institution_name)
            session.commit()
