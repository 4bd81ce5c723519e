"""Bounds on what enters the system: event times, query dates, and text.

Every inbound event model, request body and date query parameter uses these types, so a value
that would overflow a conversion (``9999-12-31T23:59:59-12:00`` is past ``datetime.max`` once
in UTC) or that a database refuses (PostgreSQL refuses NUL in text) is refused where it
enters, with the field named, instead of failing later inside an activity.

The bounds are fixed dates, not "now": these models are also decoded inside workflows, where
validation must be deterministic. "Not more than a day ahead of now" is an edge rule
(`not_ahead`), applied by the intake checks in ``infra/intake.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel
from pydantic_core import PydanticCustomError

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
# Nothing the system handles happened before it could: the plan dates from 2021, the oldest
# registry entries and inspection records imported are younger than 2000.
EARLIEST = datetime(2000, 1, 1, tzinfo=BEIJING)
# Filters may reach further than events (a report "until 2099"), but stay far from the
# calendar's end so that no bound +/- a day or an offset overflows.
QUERY_EARLIEST = date(2000, 1, 1)
QUERY_LATEST = date(2100, 1, 1)
LATEST_EVENT = datetime(2100, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)  # the widest offset in use (UTC+14, Line Islands)
AHEAD = timedelta(days=1)  # a device clock may run ahead; a day more is an error

# Control characters (C0, DEL, C1) and lone surrogates (only reachable through JSON escapes
# such as "\ud800": they cannot be encoded to UTF-8 and break every consumer downstream).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Error types the API turns into Chinese messages (api/errors.py).
CONTROL_CHARACTER = "control_character"
FORMAT_CHARACTER = "format_character"
DATE_OUT_OF_RANGE = "date_out_of_range"
PHONE = "phone_number"


def _error(kind: str, message: str) -> PydanticCustomError:
    """Reported with `kind` as the error's type, so the edges can explain it (in Chinese)."""
    return PydanticCustomError(kind, message)


def _clean(pattern: re.Pattern[str], value: str) -> str:
    found = pattern.search(value)
    if found is not None:
        raise _error(
            CONTROL_CHARACTER,
            f"character U+{ord(found.group()):04X} at position {found.start()} is not allowed",
        )
    return value


def clean_line(value: str) -> str:
    """A name, a code, an id: no control character at all."""
    return _clean(_CONTROL, value)


def clean_text(value: str) -> str:
    """Free text: line breaks and tabs are fine, other control characters are not."""
    return _clean(_CONTROL_IN_TEXT, value)


def clean_name(value: str) -> str:
    """A person's name: no control character, and no invisible format character (Unicode
    category Cf: zero-width spaces and joiners, U+202E and the other direction overrides, the
    BOM). Such a character makes one name look like another or read backwards on a page (a
    banned person's name in the registry); nobody's name needs one."""
    clean_line(value)
    for position, ch in enumerate(value):
        if unicodedata.category(ch) == "Cf":
            raise _error(
                FORMAT_CHARACTER,
                f"invisible character U+{ord(ch):04X} at position {position} is not allowed",
            )
    return value


def clean_phone(value: str) -> str:
    """A phone number as typed: full-width digits and signs folded (NFKC, `１３８` is `138`),
    then digits, spaces, `+` and `-` only, with at least three digits."""
    folded = unicodedata.normalize("NFKC", value).strip()
    if (
        not re.fullmatch(r"[0-9+\- ]{3,32}", folded, re.ASCII)
        or sum(ch.isdigit() for ch in folded) < 3
    ):
        raise _error(PHONE, "digits, spaces, + and - only, at least three digits")
    return folded


def event_time(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        raise _error(DATE_OUT_OF_RANGE, "a UTC offset is required")
    if abs(offset) > MAX_OFFSET:
        raise _error(DATE_OUT_OF_RANGE, f"UTC offset {offset} is beyond +/-14:00")
    # Aware comparison works on the fields and the offset; it never converts to UTC, so the
    # extreme values compare without overflowing.
    if not EARLIEST <= value <= LATEST_EVENT:
        raise _error(DATE_OUT_OF_RANGE, "must lie between 2000-01-01 (Beijing time) and 2100-01-01")
    return value


def query_date(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not QUERY_EARLIEST <= day <= QUERY_LATEST:
        raise _error(DATE_OUT_OF_RANGE, "must lie between 2000-01-01 and 2100-01-01")
    return value


def query_datetime(value: datetime) -> datetime:
    query_date(value)
    if value.tzinfo is not None and abs(value.utcoffset() or timedelta()) > MAX_OFFSET:
        raise _error(DATE_OUT_OF_RANGE, "UTC offset is beyond +/-14:00")
    return value


def not_ahead(value: datetime, now: datetime, field: str = "occurred_at") -> str | None:
    """Why `value` is too far ahead of `now` (the edge's clock), or None."""
    if value > now + AHEAD:
        return f"{field}: {DATE_OUT_OF_RANGE}: more than a day ahead of now"
    return None


Line = Annotated[str, AfterValidator(clean_line)]
Text = Annotated[str, AfterValidator(clean_text)]
# Only in what a client sends (request bodies, the contact, a person named in a result), not
# in events already in workflow histories: a stricter rule there would refuse them on replay.
Name = Annotated[str, AfterValidator(clean_name)]
Phone = Annotated[str, AfterValidator(clean_phone)]
EventTime = Annotated[AwareDatetime, AfterValidator(event_time)]
QueryDate = Annotated[date, AfterValidator(query_date)]
QueryDateTime = Annotated[datetime, AfterValidator(query_datetime)]


def fingerprint(content: BaseModel | dict[str, Any], exclude: set[str] | None = None) -> str:
    """SHA-256 over the canonical JSON of an event (keys sorted, no spaces), without the
    fields in `exclude` (transport fields, server defaults): equal content, equal print."""
    data = content.model_dump(mode="json") if isinstance(content, BaseModel) else content
    kept = {k: v for k, v in data.items() if k not in (exclude or set())}
    canonical = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
