"""Camera-system alarms on `tuoyu.camera-alarms` (the SIP gateway publishes here too)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.people import PersonIdentity, PersonRef


class CameraAlarmKind(StrEnum):
    FACE_MATCH = "face-match"  # face recognition matched a person in the camera platform
    INTRUSION = "intrusion"
    DEVICE_OFFLINE = "device-offline"


class CameraAlarm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime
    kind: CameraAlarmKind
    device_id: str = Field(min_length=1, max_length=64, description="GB/T 28181 device id")
    institution_id: str = Field(min_length=1, max_length=64)
    person: PersonIdentity | None = Field(default=None, description="face-match: who was seen")
    description: str | None = Field(default=None, max_length=2000)


class FaceMatch(BaseModel):
    """A face-match alarm after hashing: what workflows see."""

    event_id: str
    occurred_at: AwareDatetime
    device_id: str
    institution_id: str
    person: PersonRef
