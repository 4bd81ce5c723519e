"""The integrity file (诚信档案) of an institution: every outcome, decision and credit entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlmodel import JSON, Column, Field, SQLModel


class IntegrityKind(StrEnum):
    COMPLAINT_OUTCOME = "complaint-outcome"
    DECISION = "decision"
    REINSPECTION = "reinspection"
    BAN = "ban"
    CREDIT_NOTICE = "credit-notice"
    CREDIT_ENTRY = "credit-entry"
    CREDIT_REMOVAL = "credit-removal"
    CREDIT_COMMITMENT = "credit-commitment"  # 信用承诺, public (Order 36)
    CREDIT_LIFTING = "credit-lifting"  # a department's measures lifted, or chased


class IntegrityRecordBase(SQLModel):
    institution_key: str = Field(max_length=300, index=True)
    institution_name: str | None = Field(default=None, max_length=200)
    kind: IntegrityKind = Field(sa_type=String(24))
    case_id: str | None = Field(default=None, max_length=32)
    summary: str = Field(max_length=2000)
    occurred_at: datetime
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class IntegrityRecord(IntegrityRecordBase, table=True):
    __tablename__ = "integrity_records"

    key: str = Field(primary_key=True, max_length=200)


class IntegrityRecordPublic(IntegrityRecordBase):
    key: str
