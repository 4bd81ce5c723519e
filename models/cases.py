"""Cases: one per complaint (duplicates join an open one), run by one Temporal workflow."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from models.complaints import Category, Channel
from models.timeutil import SHANGHAI


class CaseStatus(StrEnum):
    DISPATCHED = "dispatched"  # with a unit, waiting for it to accept
    ACCEPTED = "accepted"  # the unit is investigating
    RESOLVED = "resolved"  # result reported, waiting for follow-up or closure
    CLOSED = "closed"
    MERGED = "merged"  # joined an open case about the same institution and concern


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    ORDINARY = "ordinary"
    CONSULTATION = "consultation"


class Level(StrEnum):
    """Where a case sits on the ladder: town acts first, then the city, then the office."""

    TOWN = "town"
    CITY = "city"
    LEADING_OFFICE = "leading-office"


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly-substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    ANSWERED = "answered"  # a consultation answered


class FollowUpRating(StrEnum):
    """The caller's verdict on the follow-up call (回访): the 12345 three-point scale. The
    satisfaction rate counts 满意 and 基本满意 as satisfied."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically-satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


def case_id_for(event_id: str, occurred_at: datetime) -> str:
    """The case reference, derived from the intake event so that replays find the same case.

    Readable by a hotline operator over the phone: TY + local date + 10 hex digits.
    """
    day = occurred_at.astimezone(SHANGHAI).strftime("%Y%m%d")
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:10].upper()
    return f"TY{day}-{digest}"


def workflow_id_for(case_id: str) -> str:
    return f"case-{case_id}"


class CaseBase(SQLModel):
    # Enums are stored as their string values: adding a category needs no type migration.
    category: Category = Field(sa_type=String(32))
    priority: Priority = Field(sa_type=String(16))
    channel: Channel = Field(sa_type=String(16))
    town: str = Field(max_length=64, index=True)
    institution_id: str | None = Field(default=None, max_length=64)
    institution_name: str | None = Field(default=None, max_length=200)
    description: str = Field(max_length=5000)
    anonymous: bool = False
    # The hotline keeps the caller's contact and calls back; handling units never see it.
    confidential: bool = False


class CaseProgress(SQLModel):
    """Where the case stands; written by the workflow's activities after every step."""

    handler: str | None = Field(default=None, max_length=64, index=True)
    level: Level | None = Field(default=None, sa_type=String(16))
    round: int = 1
    accept_by: datetime | None = None
    resolve_by: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: Outcome | None = Field(default=None, sa_type=String(24))
    findings: str | None = Field(default=None, max_length=5000)
    result_unit: str | None = Field(default=None, max_length=64)
    satisfied: bool | None = None
    # The follow-up's scale and 问题是否解决 (migration 0017); `satisfied` follows the scale.
    follow_up_rating: FollowUpRating | None = Field(default=None, sa_type=String(24))
    problem_solved: bool | None = None
    followed_up_at: datetime | None = None
    reopened: int = 0
    merged_into: str | None = Field(default=None, max_length=32)
    # Work-order features (migration 0015).
    related_to: str | None = Field(
        default=None, max_length=32, description="the same institution's earlier closed case"
    )
    knowledge_id: str | None = Field(
        default=None, max_length=64, description="直接答复: the knowledge-base entry used"
    )
    pending: str | None = Field(
        default=None, max_length=16, description="'return' (退单审核) or 'extension' (延期审批)"
    )
    extended: bool = False
    supervisions: int = 0
    supervised_until: datetime | None = Field(default=None, description="the latest 督办 deadline")


class Case(CaseBase, CaseProgress, table=True):
    __tablename__ = "cases"

    id: str = Field(primary_key=True, max_length=32)
    status: CaseStatus = Field(sa_type=String(16))
    source_event_id: str = Field(max_length=128, unique=True)
    # Duplicates are found by institution (registry id, or town + name) and category.
    institution_key: str | None = Field(default=None, max_length=300, index=True)
    received_at: datetime = Field(index=True)
    created_at: datetime
    updated_at: datetime
    workflow_id: str = Field(max_length=64)


class CasePublic(CaseBase, CaseProgress):
    id: str
    status: CaseStatus
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    assigned_units: list[str] = []
    linked_cases: list[str] = []
    related_cases: list[str] = Field(
        default=[], description="later reports about it, opened as new cases once it was done"
    )
    allowed_actions: list[str] = Field(
        default=[], description="actions the caller may take now (case detail only)"
    )
    # Inbox only: the listed unit's part (handler, collaborator, assisting) and the deadline
    # that counts now (after a reminder, the final acceptance deadline).
    unit_role: str | None = None
    due_by: datetime | None = None


class ComplainantContact(SQLModel, table=True):
    """The caller's contact, kept apart from the case and shown only to roles that need it."""

    __tablename__ = "complainant_contacts"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    # Before migration 0012 the contact was stored in clear here; now it is `sealed` (a
    # models.sealed.Sealed as JSON, bound to the complaint's event id) and these stay empty.
    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    sealed: str | None = Field(default=None, sa_type=Text)
    taken_by: str | None = Field(default=None, max_length=64, description="operator's user name")
    # HMAC of the normalised phone number with the identity-hash key: earlier calls are found
    # by it, never by the clear number.
    phone_hash: str | None = Field(default=None, max_length=64, index=True)


class CaseAssignment(SQLModel, table=True):
    """A unit involved in a case: its handler, collaborators, assisting units."""

    __tablename__ = "case_assignments"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    unit: str = Field(primary_key=True, foreign_key="units.code", max_length=64)
    role: str = Field(max_length=16)  # handler, collaborator, assisting, former
    assigned_at: datetime


class CaseRound(SQLModel, table=True):
    """One spell of a case with one handling unit, with its deadlines: the statistics' source."""

    __tablename__ = "case_rounds"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    round: int = Field(primary_key=True)
    unit: str = Field(max_length=64, index=True)
    level: Level = Field(sa_type=String(16))
    dispatched_at: datetime = Field(index=True)
    accept_by: datetime | None = None
    accepted_at: datetime | None = None
    resolve_by: datetime | None = None
    resolved_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=32)


class CaseLink(SQLModel, table=True):
    """A complaint that joined an open case instead of opening its own."""

    __tablename__ = "case_links"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    linked_case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    event_id: str = Field(max_length=128)
    linked_at: datetime


class UnitRecordKind(StrEnum):
    ESCALATED = "escalated"  # the case was taken up a level because the unit did not act in time
    NOTICE_INTERVIEW = "notice-interview"  # 通报约谈 by the leading group office
    SUPERVISED = "supervised"  # 督办: a supervision order of the leading group office
    SUPERVISION_OVERDUE = "supervision-overdue"  # 督办 not answered by its deadline


class UnitRecord(SQLModel, table=True):
    """A record against a unit that did not do its job in time."""

    __tablename__ = "unit_records"

    key: str = Field(primary_key=True, max_length=160)
    unit: str = Field(foreign_key="units.code", max_length=64, index=True)
    case_id: str = Field(foreign_key="cases.id", max_length=32, index=True)
    kind: UnitRecordKind = Field(sa_type=String(24))
    reason: str = Field(max_length=500)
    occurred_at: datetime = Field(index=True)
