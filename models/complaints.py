"""Complaints and reports from the public, as they arrive on `tuoyu.complaints`."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.bounds import EventTime, Line, Name, Phone, Text
from models.sealed import Sealed


class Category(StrEnum):
    CHILD_ABUSE = "child-abuse"
    INJURY = "injury"
    SAFETY_FIRE = "safety-fire"
    FOOD_SAFETY = "food-safety"
    HEALTH_MANAGEMENT = "health-management"
    STAFFING = "staffing"
    PREPAYMENT = "prepayment"
    OUT_OF_SCOPE = "out-of-scope"
    UNREGISTERED = "unregistered"
    VIDEO_SYSTEM = "video-system"
    CONSULTATION = "consultation"
    OTHER = "other"
    BANNED_PERSON = "banned-person"  # a banned person seen at an institution (face recognition)
    VIDEO_ALARM = "video-alarm"  # intrusion and other smart-video alarms from the cameras


class Channel(StrEnum):
    HOTLINE = "hotline"
    WEB = "web"
    OPEN311 = "open311"
    MAIL = "mail"
    VISIT = "visit"
    CAMERA = "camera"
    INSPECTION = "inspection"
    OTHER = "other"


class Complainant(BaseModel):
    """Who called. Kept apart from the case; never published on a topic other than intake."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, max_length=64)
    phone: Phone | None = Field(
        default=None,
        max_length=32,
        description="digits, spaces, + and - (full-width folded to ASCII), at least three digits",
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}$")


class DirectAnswer(BaseModel):
    """直接答复: a consultation answered at the desk from the knowledge base."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    knowledge_id: str = Field(min_length=1, max_length=64, description="knowledge-base entry")
    answer: str = Field(min_length=2, max_length=5000, description="what the caller was told")


class ComplaintBody(BaseModel):
    """What a client submits; the API adds `event_id` and `occurred_at` when absent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel = Channel.HOTLINE
    category: Category
    town: Line = Field(
        min_length=1, max_length=64, description="unit code of the town, street or zone"
    )
    institution_id: Line | None = Field(
        default=None, max_length=64, description="registry id of the institution, if known"
    )
    institution_name: Line | None = Field(default=None, max_length=200)
    description: Text = Field(min_length=1, max_length=5000)
    # Strict: a JSON true or false only ("yes" would make a caller anonymous by a typo).
    anonymous: bool = Field(default=False, strict=True)
    confidential: bool = Field(
        default=False,
        strict=True,
        description="保密: the hotline keeps the contact and calls back; units never see it",
    )
    complainant: Complainant | None = None
    direct_answer: DirectAnswer | None = Field(
        default=None, description="a consultation answered at once: closed, never dispatched"
    )


class ComplaintReceived(ComplaintBody):
    """Inbound event on `tuoyu.complaints`. The caller's contact travels sealed
    (`complainant_sealed`); `complainant` in clear is the old shape, still accepted on input
    and sealed by the stream worker before it reaches a workflow."""

    complainant_sealed: Sealed | None = Field(
        default=None, description="the caller's contact, sealed by the vault at the edge"
    )

    event_id: Line = Field(min_length=1, max_length=128, description="idempotency key")
    occurred_at: EventTime
    taken_by: Line | None = Field(
        default=None, max_length=64, description="user name of the operator who took the call"
    )
    caller_hash: str | None = Field(
        default=None,
        max_length=64,
        description="keyed hash of the caller's phone (set by the API) for the caller history",
    )
    urgent: bool = Field(
        default=False,
        strict=True,
        description="handle as critical whatever the category (e.g. a first-priority alarm)",
    )
