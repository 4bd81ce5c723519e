"""Events parked after a deterministic failure inside Temporal: recorded, dead-lettered and
(for a case) flagged to the leading group office, so the workflow can go on."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel


class ParkEvent(BaseModel):
    """What a workflow hands to the `park_event` activity."""

    id: str = Field(description="stable per failure: workflow id and the failed step")
    workflow_id: str
    workflow_type: str
    kind: str = Field(description="complaint, registry, alarm, inspection, face-match, case-step")
    event_id: str | None = None
    case_id: str | None = None
    key: str | None = Field(default=None, description="the Kafka key of the original message")
    error_type: str
    reason: str
    payload: str = Field(description="the event (or step) as JSON")


class ParkedEvent(SQLModel, table=True):
    """One parked event; `resolved_at` is set by an operator once it has been dealt with."""

    __tablename__ = "parked_events"

    id: str = Field(primary_key=True, max_length=200)
    workflow_id: str = Field(max_length=200)
    workflow_type: str = Field(max_length=64)
    kind: str = Field(max_length=32, index=True)
    event_id: str | None = Field(default=None, max_length=200, index=True)
    case_id: str | None = Field(default=None, max_length=32, index=True)
    key: str | None = Field(default=None, max_length=200)
    error_type: str = Field(max_length=64)
    reason: str
    # JSON text, not a JSON column: PostgreSQL's jsonb refuses \u0000, its text takes the
    # escaped form, so the very event that failed for a NUL can be kept.
    payload: str
    dead_letter_id: str = Field(max_length=200)
    parked_at: datetime = Field(index=True)
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=128)
