"""The staff registry: who works where, and who their direct manager was, when.

One row per spell of a reporting line: a manager change ends one row and starts the next,
so the manager at the time of an incident can be found later.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel


class StaffRole(StrEnum):
    DIRECTOR = "director"  # 负责人
    NURSERY_TEACHER = "nursery-teacher"  # 保育人员 / 育婴员
    HEALTH_WORKER = "health-worker"  # 保健人员
    CAREGIVER = "caregiver"
    NUTRITIONIST = "nutritionist"
    ACCOUNTANT = "accountant"
    GUARD = "guard"
    OTHER = "other"


class Employment(SQLModel, table=True):
    __tablename__ = "employment"

    id: int | None = Field(default=None, primary_key=True)
    person_hash: str = Field(max_length=64, index=True)
    person_masked: str = Field(max_length=18)
    name: str = Field(max_length=64)
    institution_id: str = Field(foreign_key="institutions.id", max_length=64, index=True)
    role: StaffRole = Field(sa_type=String(24))
    manager_hash: str | None = Field(default=None, max_length=64, index=True)
    valid_from: datetime
    valid_to: datetime | None = Field(default=None, index=True)
    end_reason: str | None = Field(default=None, max_length=32)  # left, manager-changed
    source_event_id: str = Field(max_length=128, unique=True)


class CheckResult(StrEnum):
    CLEAR = "clear"
    BANNED = "banned"


class StaffCheck(SQLModel, table=True):
    """Every check of a person against the ban registry: hiring, yearly, after a new ban."""

    __tablename__ = "staff_checks"

    id: str = Field(primary_key=True, max_length=160)
    person_hash: str = Field(max_length=64, index=True)
    person_masked: str = Field(max_length=18)
    institution_id: str | None = Field(default=None, max_length=64, index=True)
    reason: str = Field(max_length=32)  # hiring, yearly, new-ban, api
    result: CheckResult = Field(sa_type=String(16))
    checked_at: datetime
