"""Camera-system alarms on `tuoyu.camera-alarms` (the SIP gateway publishes here too)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlmodel import JSON, Column, SQLModel
from sqlmodel import Field as SQLField

from models.bounds import EventTime, Line, Text
from models.people import PersonIdentity, PersonRef
from models.sealed import Sealed


class CameraAlarmKind(StrEnum):
    FACE_MATCH = "face-match"  # face recognition matched a person in the camera platform
    INTRUSION = "intrusion"  # intrusion / tripwire / loitering analytics
    VIDEO_ALARM = "video-alarm"  # other video analytics (motion, objects left or taken, ...)
    DEVICE_ALARM = "device-alarm"  # video lost, tamper, storage full, temperature
    DEVICE_FAULT = "device-fault"  # disk or fan failure
    DEVICE_OFFLINE = "device-offline"  # keepalives stopped (raised by the platform)
    OTHER = "other"  # telephone, SMS, GPS or unspecified alarms
    KEEPALIVE = "keepalive"  # not an alarm: the device is alive (GB/T 28181 Keepalive)
    REGISTERED = "registered"  # not an alarm: the device registered (SIP REGISTER, digest)
    UNREGISTERED = "unregistered"  # the device unregistered, or its registration expired


class CameraAlarm(BaseModel):
    """A normalised camera-system event. The SIP gateway fills the GB/T 28181 fields;
    systems posting JSON may leave them out."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: Line = Field(min_length=1, max_length=128)
    occurred_at: EventTime
    kind: CameraAlarmKind
    device_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$", description="GB/T 28181 device id"
    )
    institution_id: Line | None = Field(
        default=None, max_length=64, description="default: the institution the device serves"
    )
    person: PersonIdentity | None = Field(
        default=None,
        description="face-match: who was seen, in clear; accepted from clients, never produced "
        "to the topic (the edge replaces it by `person_ref` and `person_sealed`)",
    )
    person_ref: PersonRef | None = Field(
        default=None, description="face-match: keyed hash and masked number, made at the edge"
    )
    person_sealed: Sealed | None = Field(
        default=None, description="face-match: the identity number, sealed by the vault"
    )
    description: Text | None = Field(default=None, max_length=2000)
    alarm_priority: int | None = Field(
        default=None, ge=1, le=4, description="GB/T 28181 AlarmPriority: 1 highest, 4 lowest"
    )
    alarm_methods: list[int] = Field(
        default=[], description="GB/T 28181 AlarmMethod digits (1-7)", max_length=7
    )
    alarm_type: int | None = Field(default=None, ge=0, le=99)
    event_type: int | None = Field(default=None, ge=0, le=99)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    source: Line = Field(default="api", max_length=16, description="sip or api")
    offline_after: float | None = Field(
        default=None,
        gt=0,
        le=86400,
        description="keepalive and registered: seconds of silence after which the device "
        "counts as offline (3 keepalive intervals); default TUOYU_KEEPALIVE_TIMEOUT",
    )


class FaceMatch(BaseModel):
    """A face-match alarm after hashing: what workflows see."""

    event_id: str
    occurred_at: AwareDatetime
    device_id: str
    institution_id: str | None
    person: PersonRef


class DeviceAlarm(BaseModel):
    """An alarm (or a storm of them) that should reach a case; input of the alarm workflow."""

    event_id: str = Field(description="one per device and storm window")
    occurred_at: AwareDatetime
    kind: CameraAlarmKind
    device_id: str
    institution_id: str | None = None
    alarm_priority: int | None = None
    description: str | None = None
    count: int = Field(default=1, description="alarms from the device in the window so far")


class AlarmStorm(BaseModel):
    """Signal to an alarm's case once its window closed: how many alarms came in it."""

    event_id: str
    count: int
    window_start: AwareDatetime
    window_end: AwareDatetime


class Device(SQLModel, table=True):
    """A camera or video recorder (GB/T 28181 device id) and the institution it serves."""

    __tablename__ = "devices"

    id: str = SQLField(primary_key=True, max_length=64)
    institution_id: str = SQLField(max_length=64, index=True)
    name: str | None = SQLField(default=None, max_length=200)
    registered_at: datetime
    # SIP digest (GB/T 28181 registration): HA1 = H(device id:realm:password), never the
    # password itself; no HA1 means the device cannot register.
    sip_ha1: str | None = SQLField(default=None, max_length=32)
    sip_ha1_sha256: str | None = SQLField(default=None, max_length=64)
    keepalive_interval: int | None = None  # seconds; default TUOYU_SIP_KEEPALIVE_INTERVAL
    rooms: dict[str, str] = SQLField(default_factory=dict, sa_column=Column(JSON))


class DeviceChannel(SQLModel, table=True):
    """A channel of a device (an NVR's camera), as its Catalog response listed it, and the
    room of the institution it watches."""

    __tablename__ = "device_channels"

    device_id: str = SQLField(primary_key=True, max_length=64)
    channel_id: str = SQLField(primary_key=True, max_length=64, index=True)
    name: str | None = SQLField(default=None, max_length=200)
    room: str | None = SQLField(default=None, max_length=200)
    status: str | None = SQLField(default=None, max_length=16)
    updated_at: datetime


class SipRegistration(SQLModel, table=True):
    """A device's current SIP registration, kept so that a restarted gateway still knows it."""

    __tablename__ = "sip_registrations"

    device_id: str = SQLField(primary_key=True, max_length=64)
    host: str = SQLField(max_length=64)
    port: int
    transport: str = SQLField(max_length=8)
    gb_version: str | None = SQLField(default=None, max_length=8)
    registered_at: datetime
    expires_at: datetime = SQLField(index=True)
    subscription_expires_at: datetime | None = None
