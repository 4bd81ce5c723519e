"""Inputs, signals and results of the case workflow and its activities (never tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from models.actors import Actor
from models.cases import CaseStatus, FollowUpRating, Level, Outcome, Priority, UnitRecordKind
from models.complaints import Category, ComplaintReceived
from models.deadlines import RoundDeadlines
from models.notifications import NotificationKind


class Routing(BaseModel):
    """Who handles a case first. Critical cases start at the city with the town alongside."""

    priority: Priority
    town: str
    lead: list[str]
    handler: str
    level: Level
    collaborators: list[str] = []

    @property
    def dispatch_to(self) -> list[str]:
        return list(dict.fromkeys([self.handler, *self.collaborators]))


class OpenCaseInput(BaseModel):
    case_id: str
    workflow_id: str
    complaint: ComplaintReceived
    allow_merge: bool = True
    # When the workflow opens the case: the first round's deadlines are planned from it.
    now: AwareDatetime | None = None


class ReusedEventId(BaseModel):
    """A complaint signalled with the event id of the case's first complaint but other
    content: recorded and dead-lettered, never merged into the case."""

    case_id: str
    complaint: ComplaintReceived
    fingerprint: str = Field(description="of the complaint refused")
    first_fingerprint: str = Field(description="of the complaint the case opened with")


class OpenCaseResult(BaseModel):
    routing: Routing
    institution_name: str | None = None
    merged_into: str | None = None
    deadlines: RoundDeadlines | None = None
    related_to: str | None = Field(
        default=None, description="the same institution's earlier case, no longer open"
    )
    related_units: list[str] = []


class JoinCase(BaseModel):
    """Signal to an open case: another complaint about the same institution and concern."""

    case_id: str
    event_id: str
    occurred_at: AwareDatetime


class ReturnRequest(BaseModel):
    """A unit's return (退单) waiting for the hotline centre's review (退单审核)."""

    unit: str
    reason: str
    to_unit: str | None = None
    at: datetime
    reviewer: str = Field(description="operator (the hotline centre) or leading-office (审定)")


class ExtensionRequest(BaseModel):
    """The handling unit's request for more time (延期申请)."""

    unit: str
    reason: str
    working_days: int
    at: datetime


class SupervisionOrder(BaseModel):
    """A supervision order (督办) of the leading group office."""

    seq: int
    unit: str
    comments: str
    due_by: datetime
    at: datetime
    by: str
    # The unit's result answers the order; its deadline passing first flags it (督办逾期).
    answered_at: datetime | None = None
    overdue_at: datetime | None = None


class HistoryEntry(BaseModel):
    step: int
    at: datetime
    action: str
    actor: str
    unit: str | None = None
    reason: str | None = None


class CaseState(BaseModel):
    """Everything the workflow knows; answered to the `state` query, carried over on
    continue-as-new."""

    case_id: str
    status: CaseStatus | None = None
    category: Category | None = None
    priority: Priority | None = None
    anonymous: bool = False
    town: str | None = None
    received_at: datetime | None = None
    lead: list[str] = []
    handler: str | None = None
    level: Level | None = None
    escalated: bool = False
    collaborators: list[str] = []
    assisting: list[str] = []
    round: int = 0
    round_started_at: datetime | None = None
    deadlines: RoundDeadlines = RoundDeadlines()
    reminded: bool = False
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: Outcome | None = None
    findings: str | None = None
    result_unit: str | None = None
    satisfied: bool | None = None
    follow_up_rating: FollowUpRating | None = None
    problem_solved: bool | None = None
    followed_up_at: datetime | None = None
    reopened: int = 0
    returned_by: list[str] = []
    merged_into: str | None = None
    enforcement: str | None = Field(default=None, description="enforcement workflow id")
    linked_cases: list[str] = []
    # Work-order features (12345 hotline rules); defaults keep older states loading.
    dispatched_at: datetime | None = Field(
        default=None, description="first dispatch: the resolution clock runs from here"
    )
    return_pending: ReturnRequest | None = None
    returns: int = Field(default=0, description="returns asked for, approved or not")
    extension_pending: ExtensionRequest | None = None
    extensions: int = 0
    supervisions: list[SupervisionOrder] = []
    redone: int = Field(default=0, description="sent back to the same unit (重办)")
    related_to: str | None = Field(default=None, description="an earlier case, no longer open")
    direct_answer: bool = False
    event_ids: list[str] = []
    fingerprint: str | None = Field(
        default=None, description="of the complaint the case opened with (models.bounds)"
    )
    step: int = 0
    history: list[HistoryEntry] = []
    parked: list[str] = Field(
        default=[], description="ids of steps that failed for good: parked and flagged"
    )

    @property
    def dispatched_to(self) -> list[str]:
        return [u for u in [self.handler, *self.collaborators] if u is not None]


class CaseWorkflowInput(BaseModel):
    case_id: str
    state: CaseState | None = Field(default=None, description="set on continue-as-new")
    history_limit: int = Field(
        default=5000, description="events after which the workflow continues as new"
    )


class NotificationSpec(BaseModel):
    kind: NotificationKind
    recipient: str
    note: str | None = None
    due_at: AwareDatetime | None = None


class UnitRecordSpec(BaseModel):
    unit: str
    kind: UnitRecordKind
    reason: str


class RecordStep(BaseModel):
    """One step of a case, to persist, audit and announce; `state` is as after the step."""

    state: CaseState
    action: str
    actor: Actor
    reason: str | None = None
    details: dict[str, Any] = {}
    occurred_at: AwareDatetime
    notifications: list[NotificationSpec] = []
    unit_records: list[UnitRecordSpec] = []
    round_end_reason: str | None = Field(
        default=None, description="set when this step ended the previous round"
    )
    new_round: bool = False

    @property
    def key(self) -> str:
        return f"{self.state.case_id}:step:{self.state.step}"

    def event_id(self, spec: NotificationSpec) -> str:
        return f"{self.state.case_id}:{spec.kind}:{spec.recipient}:{self.state.step}"


class DeadlineAfter(BaseModel):
    """A deadline counted from `start`: `working_days`, or the policy's named duration."""

    start: AwareDatetime
    working_days: int | None = None
    policy: str | None = Field(default=None, description="e.g. notice_reminder_every")


class RecheckEmployment(BaseModel):
    """Check current employment against active bans: yearly, or for new bans' persons."""

    key: str = Field(description="idempotency key of this check")
    at: AwareDatetime
    reason: str = Field(description="yearly or new-ban")
    person_hashes: list[str] = []
    case_id: str | None = None
