"""What the Open311 edge keeps of each request beside the case: where it was reported, its
media references, and, for a request whose place maps to no jurisdiction, the complaint held
for the 12345 hotline centre to dispatch by hand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class Open311Request(SQLModel, table=True):
    __tablename__ = "open311_requests"

    service_request_id: str = Field(primary_key=True, max_length=32, description="the case id")
    event_id: str = Field(max_length=128, unique=True)
    received_at: datetime = Field(index=True)
    category: str = Field(max_length=32)
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(default=None, max_length=500)
    # Photos stay where the client keeps them: their URLs, one a line (FixMyStreet sends one,
    # or several with `multi_photos`); nothing is fetched from them.
    media_urls: str | None = Field(default=None, sa_type=Text)
    town: str | None = Field(default=None, max_length=64, description="None: not yet dispatched")
    located_by: str = Field(max_length=16, description="attribute, boundary or hand")
    # The complaint (contact sealed) waiting for a town; emptied once it is dispatched.
    held: str | None = Field(default=None, sa_type=Text)
    dispatched_at: datetime | None = None
    dispatched_by: str | None = Field(default=None, max_length=160)
