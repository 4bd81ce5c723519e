"""Small factories for test data."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from models.cases import case_id_for
from models.complaints import ComplaintReceived
from models.people import PersonIdentity


def complaint_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": f"test-{uuid.uuid4()}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "channel": "hotline",
        "category": "health-management",
        "town": "town-lushan",
        # Unique per complaint: the same institution and concern would join one case.
        "institution_name": f"炉山镇阳光托育中心{uuid.uuid4().hex[:6]}",
        "description": "家长反映机构未按规定开展晨午检。",
        "anonymous": False,
        "complainant": {"name": "王女士", "phone": "138 0000 0000"},
    }
    payload.update(overrides)
    return payload


def complaint(**overrides: Any) -> ComplaintReceived:
    return ComplaintReceived.model_validate(complaint_payload(**overrides))


def case_id_of(payload: dict[str, Any]) -> str:
    """The case reference the system derives for a complaint payload."""
    return case_id_for(payload["event_id"], datetime.fromisoformat(payload["occurred_at"]))


def identity_number(sequence: int | None = None, birth: str | None = None) -> str:
    """A valid (check digit included) identity number from Kaili (522601), made up; random
    birth date and sequence, so that two made-up people practically never share one."""
    from models.people import _CHECK, _WEIGHTS

    rand = uuid.uuid4().int
    seq = sequence if sequence is not None else rand % 1000
    if birth is None:
        born = date(1970, 1, 1) + timedelta(days=(rand >> 10) % 11000)
        birth = born.strftime("%Y%m%d")
    body = f"522601{birth}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + _CHECK[total % 11]


def person(name: str, **kwargs: Any) -> PersonIdentity:
    return PersonIdentity.model_validate({"id_number": identity_number(**kwargs), "name": name})
