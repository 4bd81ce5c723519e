"""Cases: one per complaint (later issues join duplicates), run by one Temporal workflow."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.complaints import Category, Channel
from models.timeutil import SHANGHAI


class CaseStatus(StrEnum):
    DISPATCHED = "dispatched"


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    ORDINARY = "ordinary"
    CONSULTATION = "consultation"


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
    institution_name: str | None = Field(default=None, max_length=200)
    description: str = Field(max_length=5000)
    anonymous: bool = False


class Case(CaseBase, table=True):
    __tablename__ = "cases"

    id: str = Field(primary_key=True, max_length=32)
    status: CaseStatus = Field(sa_type=String(16))
    source_event_id: str = Field(max_length=128, unique=True)
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    workflow_id: str = Field(max_length=64)


class CasePublic(CaseBase):
    id: str
    status: CaseStatus
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    assigned_units: list[str] = []


class ComplainantContact(SQLModel, table=True):
    """The caller's contact, kept apart from the case and shown only to roles that need it."""

    __tablename__ = "complainant_contacts"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)


class CaseAssignment(SQLModel, table=True):
    """A unit a case was dispatched to."""

    __tablename__ = "case_assignments"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    unit: str = Field(primary_key=True, foreign_key="units.code", max_length=64)
    role: str = Field(max_length=16)  # "lead" or "responsible"
    assigned_at: datetime
