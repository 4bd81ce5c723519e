"""Lifetime bans (终身禁入): abusers and their direct managers. Never deleted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel


class BanRole(StrEnum):
    PERPETRATOR = "perpetrator"  # named in the substantiated result
    DIRECT_MANAGER = "direct-manager"  # their manager at the time, from the staff registry


class BanStatus(StrEnum):
    ACTIVE = "active"
    CORRECTED = "corrected"  # lifted by an authorised, audited correction (e.g. a court ruling)


class BanBase(SQLModel):
    person_masked: str = Field(max_length=18)
    name: str = Field(max_length=64)
    role: BanRole = Field(sa_type=String(24))
    case_id: str = Field(foreign_key="cases.id", max_length=32, index=True)
    institution_id: str | None = Field(default=None, max_length=64)
    legal_basis: str = Field(max_length=500)
    reason: str = Field(max_length=2000)
    banned_at: datetime
    status: BanStatus = Field(default=BanStatus.ACTIVE, sa_type=String(16))
    corrected_at: datetime | None = None
    corrected_by: str | None = Field(default=None, max_length=128)
    correction_reason: str | None = Field(default=None, max_length=2000)


class Ban(BanBase, table=True):
    __tablename__ = "bans"

    id: str = Field(primary_key=True, max_length=120)
    person_hash: str = Field(max_length=64, index=True)


class BanPublic(BanBase):
    """What the registry shows: the number masked, never the hash's input."""

    id: str
