"""What the HTTP edge remembers of what it accepted and refused.

`IntakeKey`: every event id accepted over HTTP, with the fingerprint of what was sent under
it. A client's retry (same id, same content) gets the first answer again; the same id with
other content is refused (409), never answered with someone else's case number.

`RejectedBody`: every refused request body dead-lettered, by digest, so that a client
retrying the same refused body is dead-lettered once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class IntakeKey(SQLModel, table=True):
    __tablename__ = "intake_keys"

    event_id: str = Field(primary_key=True, max_length=128)
    fingerprint: str = Field(max_length=64, description="SHA-256 of the canonical submission")
    case_id: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=64, description="e.g. http POST /api/v1/complaints")
    created_at: datetime


class RejectedBody(SQLModel, table=True):
    __tablename__ = "rejected_bodies"

    digest: str = Field(primary_key=True, max_length=64, description="SHA-256 of channel + body")
    channel: str = Field(max_length=200)
    reason: str = Field(max_length=2000)
    created_at: datetime
