"""Validation of inbound events, shared by the stream agents and the HTTP API."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from infra import reference
from infra.identity import IdentityHasher
from models.camera import CameraAlarm, CameraAlarmKind, FaceMatch
from models.complaints import ComplaintReceived
from models.people import PersonIdentity
from models.registry import InstitutionRegistered, RegistryCommand, RegistryEnvelope, StaffCommand


class InvalidEvent(ValueError):
    """An input that can never be processed; `details` lists the problems field by field."""

    def __init__(self, reason: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details or []


def describe(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e["loc"]) or "(body)",
            "problem": e["msg"],
            "type": e["type"],
        }
        for e in error.errors(include_url=False, include_input=False)
    ]


def check_complaint(complaint: ComplaintReceived) -> ComplaintReceived:
    """Rules that need reference data, beyond the model's own."""
    if not reference.is_jurisdiction(complaint.town):
        raise InvalidEvent(
            f"unknown town: {complaint.town!r}",
            [
                {
                    "field": "town",
                    "problem": "not a town, street or zone code",
                    "type": "unknown_code",
                }
            ],
        )
    return complaint


def parse_complaint(raw: bytes | None) -> ComplaintReceived:
    if not raw:
        raise InvalidEvent("empty message")
    try:
        complaint = ComplaintReceived.model_validate_json(raw)
    except ValidationError as exc:
        details = describe(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        raise InvalidEvent(f"invalid complaint: {summary}", details) from exc
    return check_complaint(complaint)


def parse_registry(raw: bytes | None, hasher: IdentityHasher) -> RegistryCommand:
    """Validate a registry event and hash its identity numbers: nothing downstream sees them."""
    if not raw:
        raise InvalidEvent("empty message")
    try:
        event = RegistryEnvelope.model_validate_json(b'{"event":' + raw + b"}").event
    except ValidationError as exc:
        details = describe(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        raise InvalidEvent(f"invalid registry event: {summary}", details) from exc
    if isinstance(event, InstitutionRegistered):
        if not reference.is_jurisdiction(event.town):
            raise InvalidEvent(f"unknown town: {event.town!r}")
        return RegistryCommand(institution=event)
    manager: PersonIdentity | None = getattr(event, "manager", None)
    return RegistryCommand(
        staff=StaffCommand(
            type=event.type,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            institution_id=event.institution_id,
            person=hasher.ref(event.person),
            role=getattr(event, "role", None),
            manager=hasher.ref(manager) if manager is not None else None,
        )
    )


def parse_camera_alarm(raw: bytes | None, hasher: IdentityHasher) -> FaceMatch | None:
    """A face-match alarm, hashed; None for the other kinds (handled by their own path)."""
    if not raw:
        raise InvalidEvent("empty message")
    try:
        alarm = CameraAlarm.model_validate_json(raw)
    except ValidationError as exc:
        details = describe(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        raise InvalidEvent(f"invalid camera alarm: {summary}", details) from exc
    if alarm.kind is not CameraAlarmKind.FACE_MATCH:
        return None
    if alarm.person is None:
        raise InvalidEvent("face-match alarm without the person matched")
    return FaceMatch(
        event_id=alarm.event_id,
        occurred_at=alarm.occurred_at,
        device_id=alarm.device_id,
        institution_id=alarm.institution_id,
        person=hasher.ref(alarm.person),
    )
