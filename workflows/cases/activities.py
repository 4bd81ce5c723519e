"""Activities of the case workflow: the only place it touches the database. What it publishes
goes into the outbox in the same transaction (infra/outbox.py).

One class built with a session factory, its activities by concern: opening a case in
`open_case`, recording a step in `record_step`, the small ones (deadlines, refusing a reused
event id) here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from infra import audit, outbox
from infra.db import SessionFactory
from infra.deadlines import after, plan
from infra.settings import get_settings
from infra.vault import Vault, load_vault
from models import topics
from models.audit import AuditEntry
from models.deadlines import DeadlinePolicy, Duration, PlanRound, RoundDeadlines
from models.notifications import DeadLetter, DeadLetterSource
from models.workflow_io import DeadlineAfter, ReusedEventId
from workflows.cases.open_case import ACTOR, CaseOpening
from workflows.cases.record_step import StepRecording

REUSED_REASON = "event_id reused with different content"


class CaseActivities(CaseOpening, StepRecording):
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
