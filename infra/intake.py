"""Validation of inbound events, shared by the stream agents and the HTTP API."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from infra import reference
from models.complaints import ComplaintReceived


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
