"""Validation of inbound events, shared by the stream agents and the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infra import reference
from infra.identity import IdentityHasher
from models.bounds import DATE_OUT_OF_RANGE, not_ahead
from models.camera import CameraAlarm, CameraAlarmKind, FaceMatch
from models.complaints import ComplaintReceived
from models.inspections import InspectionReport
from models.people import PersonIdentity
from models.registry import (
    DeviceRegistered,
    InstitutionRegistered,
    RegistryCommand,
    RegistryEnvelope,
    StaffCommand,
)

M = TypeVar("M", bound=BaseModel)


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


def check_not_ahead(when: datetime, field: str = "occurred_at") -> None:
    """The model bounds an event time to fixed dates; the edge also refuses one more than a
    day ahead of its own clock (a device clock may run a little ahead, not more)."""
    problem = not_ahead(when, datetime.now(UTC), field)
    if problem is not None:
        raise InvalidEvent(
            problem,
            [
                {
                    "field": field,
                    "problem": "more than a day ahead of now",
                    "type": DATE_OUT_OF_RANGE,
                }
            ],
        )


def check_complaint(complaint: ComplaintReceived) -> ComplaintReceived:
    """Rules that need reference data or the clock, beyond the model's own."""
    check_not_ahead(complaint.occurred_at)
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
    answer = complaint.direct_answer
    if answer is not None:
        from infra import knowledge

        if complaint.category != "consultation":
            raise InvalidEvent(
                "a direct answer is for consultations only",
                [{"field": "direct_answer", "problem": "category must be consultation"}],
            )
        if answer.knowledge_id not in knowledge.entries():
            raise InvalidEvent(
                f"unknown knowledge entry: {answer.knowledge_id!r}",
                [{"field": "direct_answer.knowledge_id", "problem": "not in the knowledge base"}],
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
    check_not_ahead(event.occurred_at)
    if isinstance(event, InstitutionRegistered):
        if not reference.is_jurisdiction(event.town):
            raise InvalidEvent(f"unknown town: {event.town!r}")
        return RegistryCommand(institution=event)
    if isinstance(event, DeviceRegistered):
        return RegistryCommand(device=event)
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


def _validate(model: type[M], raw: bytes | None, what: str) -> M:
    if not raw:
        raise InvalidEvent("empty message")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        details = describe(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        raise InvalidEvent(f"invalid {what}: {summary}", details) from exc


def check_inspection(report: InspectionReport) -> InspectionReport:
    check_not_ahead(report.occurred_at)
    if not reference.is_jurisdiction(report.town):
        raise InvalidEvent(
            f"unknown town: {report.town!r}",
            [
                {
                    "field": "town",
                    "problem": "not a town, street or zone code",
                    "type": "unknown_code",
                }
            ],
        )
    if report.inspector_unit not in reference.units():
        raise InvalidEvent(
            f"unknown inspecting unit: {report.inspector_unit!r}",
            [{"field": "inspector_unit", "problem": "not a unit code", "type": "unknown_code"}],
        )
    return report


def parse_inspection(raw: bytes | None) -> InspectionReport:
    return check_inspection(_validate(InspectionReport, raw, "inspection report"))


def check_camera_alarm(alarm: CameraAlarm) -> CameraAlarm:
    check_not_ahead(alarm.occurred_at)
    if (
        alarm.kind is CameraAlarmKind.FACE_MATCH
        and alarm.person is None
        and alarm.person_ref is None
    ):
        raise InvalidEvent(
            "face-match alarm without the person matched",
            [{"field": "person", "problem": "required for face-match", "type": "missing"}],
        )
    if any(not 1 <= m <= 7 for m in alarm.alarm_methods):
        raise InvalidEvent(
            f"unknown alarm method in {alarm.alarm_methods}",
            [{"field": "alarm_methods", "problem": "each must be 1-7", "type": "unknown_code"}],
        )
    return alarm


def parse_camera_alarm(raw: bytes | None, hasher: IdentityHasher) -> FaceMatch | CameraAlarm:
    """A face-match alarm comes back hashed (as a FaceMatch); the other kinds as they are."""
    alarm = check_camera_alarm(_validate(CameraAlarm, raw, "camera alarm"))
    if alarm.kind is not CameraAlarmKind.FACE_MATCH:
        return alarm.model_copy(update={"person": None, "person_ref": None, "person_sealed": None})
    # The old shape carries the number in clear: hashed here, like a registry event's.
    person = hasher.ref(alarm.person) if alarm.person is not None else alarm.person_ref
    assert person is not None
    return FaceMatch(
        event_id=alarm.event_id,
        occurred_at=alarm.occurred_at,
        device_id=alarm.device_id,
        institution_id=alarm.institution_id,
        person=person,
    )
