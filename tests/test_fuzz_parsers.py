"""Property-based tests of every inbound schema and channel parser: whatever arrives, the
answer is a parsed event or the channel's own explained rejection, never another exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from api.sip import manscdp, messages
from infra.identity import IdentityHasher
from infra.intake import (
    InvalidEvent,
    parse_camera_alarm,
    parse_complaint,
    parse_inspection,
    parse_registry,
)
from tests.factories import (
    alarm_xml,
    complaint_payload,
    device_id,
    identity_number,
    keepalive_xml,
    registry_event,
    sip_message,
)
from tests.strategies import (
    OFFSETS,
    dates,
    deep,
    hostile_json,
    hostile_text,
    json_values,
    valid_dates,
    with_field,
)

HASHER = IdentityHasher(b"k" * 32)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def explained(parse: Any, raw: bytes) -> None:
    try:
        parse(raw)
    except InvalidEvent as exc:
        assert exc.reason  # every rejection says why


PARSERS = [
    parse_complaint,
    parse_inspection,
    lambda raw: parse_registry(raw, HASHER),
    lambda raw: parse_camera_alarm(raw, HASHER),
]


@SETTINGS
@given(raw=st.binary(max_size=600))
def test_random_bytes_on_every_topic(raw: bytes) -> None:
    for parse in PARSERS:
        explained(parse, raw)


@SETTINGS
@given(value=json_values)
def test_random_json_on_every_topic(value: Any) -> None:
    raw = json.dumps(value).encode()
    for parse in PARSERS:
        explained(parse, raw)


@SETTINGS
@given(field=st.sampled_from(sorted(complaint_payload())), value=json_values)
def test_a_complaint_with_one_field_replaced(field: str, value: Any) -> None:
    explained(parse_complaint, json.dumps(complaint_payload(**{field: value})).encode())


@SETTINGS
@given(
    field=st.sampled_from(
        ["event_id", "occurred_at", "kind", "device_id", "institution_id", "person",
         "alarm_priority", "alarm_methods", "alarm_type", "longitude", "description"]
    ),
    value=json_values,
)  # fmt: skip
def test_a_camera_alarm_with_one_field_replaced(field: str, value: Any) -> None:
    alarm = {
        "event_id": "a-1",
        "occurred_at": "2026-11-29T10:00:00+08:00",
        "kind": "intrusion",
        "device_id": device_id(),
        field: value,
    }
    explained(lambda raw: parse_camera_alarm(raw, HASHER), json.dumps(alarm).encode())


def sip_explained(raw: bytes) -> None:
    try:
        request = messages.parse(raw)
    except messages.SipError as exc:
        assert exc.reason and 400 <= exc.status < 600
        return
    try:
        command = manscdp.parse(request.body)
        if command.cmd_type == "Alarm":
            manscdp.to_alarm(command)
    except manscdp.ManscdpError as exc:
        assert str(exc)


@SETTINGS
@given(raw=st.binary(max_size=800))
def test_random_bytes_at_the_sip_gateway(raw: bytes) -> None:
    sip_explained(raw)
    sip_explained(sip_message(raw, "34020000001320000001"))


@SETTINGS
@given(
    priority=st.text(max_size=4),
    method=st.text(max_size=6),
    when=st.text(max_size=25),
    description=st.text(max_size=40),
    encoding=st.sampled_from(["GB2312", "UTF-8"]),
)
def test_alarms_with_fuzzed_fields(
    priority: str, method: str, when: str, description: str, encoding: str
) -> None:
    device = device_id()
    body = alarm_xml(device, encoding=encoding)
    for tag, value in (
        ("AlarmPriority", priority),
        ("AlarmMethod", method),
        ("AlarmTime", when),
        ("AlarmDescription", description),
    ):
        start, end = f"<{tag}>".encode(), f"</{tag}>".encode()
        head, _, rest = body.partition(start)
        _, _, tail = rest.partition(end)
        escaped = value.replace("&", "&amp;").replace("<", "&lt;")
        body = head + start + escaped.encode("utf-8", "surrogatepass") + end + tail
    sip_explained(sip_message(body, device))


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=2000))
def test_truncated_sip_messages(cut: int) -> None:
    device = device_id()
    sip_explained(sip_message(alarm_xml(device), device)[:cut])


# -- the bounds (models/bounds.py) on every topic and the SIP body --------------------------

EDGE_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "complaints": (parse_complaint, complaint_payload()),
    "inspections": (
        parse_inspection,
        {
            "event_id": "i-1",
            "occurred_at": "2026-11-29T10:00:00+08:00",
            "kind": "spot-check",
            "institution_id": "inst-1",
            "town": "town-lushan",
            "inspector_unit": "health",
            "findings": [{"code": "disinfection", "note": "未消毒"}],
        },
    ),
    "registry": (
        lambda raw: parse_registry(raw, HASHER),
        json.loads(
            registry_event(
                "staff-hired",
                institution_id="inst-1",
                person={"id_number": identity_number(), "name": "张三"},
                role="caregiver",
            )
        ),
    ),
    "camera-alarms": (
        lambda raw: parse_camera_alarm(raw, HASHER),
        {
            "event_id": "a-1",
            "occurred_at": "2026-11-29T10:00:00+08:00",
            "kind": "intrusion",
            "device_id": "34020000001320000001",
            "description": "入侵",
        },
    ),
}


def clean(parsed: BaseModel) -> None:
    """What an edge takes is storable anywhere: UTF-8, no NUL, a date PostgreSQL can hold."""
    text = parsed.model_dump_json()
    text.encode("utf-8")  # no lone surrogate
    assert "\\u0000" not in text
    occurred_at = getattr(parsed, "occurred_at", None) or getattr(
        getattr(parsed, "staff", None), "occurred_at", None
    )
    if occurred_at is not None:
        assert occurred_at.astimezone(UTC).year in range(1999, 2101)


@EDGE_SETTINGS
@given(topic=st.sampled_from(sorted(BASES)), data=st.data())
def test_hostile_values_in_any_field_on_every_topic(topic: str, data: st.DataObject) -> None:
    """Far dates, control characters, lone surrogates, huge strings and 10,000-level nesting,
    in any field: refused with a reason (never a RecursionError, never an OverflowError)."""
    parse, event = BASES[topic]
    field = data.draw(st.sampled_from(sorted(event)), label="field")
    raw = with_field(event, field, data.draw(hostile_json, label="value"))
    try:
        parsed = parse(raw)
    except InvalidEvent as exc:
        assert exc.reason
        return
    clean(parsed)


@EDGE_SETTINGS
@given(topic=st.sampled_from(sorted(BASES)), when=valid_dates)
def test_any_offset_within_14_hours_is_taken_between_2000_and_now(topic: str, when: str) -> None:
    parse, event = BASES[topic]
    clean(parse(with_field(event, "occurred_at", json.dumps(when))))


@EDGE_SETTINGS
@given(
    topic=st.sampled_from(sorted(BASES)),
    when=st.one_of(
        st.datetimes(max_value=datetime(1999, 12, 30), timezones=OFFSETS),
        st.datetimes(min_value=datetime(2100, 1, 2), timezones=OFFSETS),
        st.datetimes(),  # no offset
    ),
)
def test_dates_out_of_bounds_or_without_offset_are_refused(topic: str, when: datetime) -> None:
    parse, event = BASES[topic]
    try:
        parse(with_field(event, "occurred_at", json.dumps(when.isoformat())))
    except InvalidEvent as exc:
        assert "occurred_at" in exc.reason
    else:
        raise AssertionError(f"{when.isoformat()} accepted on {topic}")


@EDGE_SETTINGS
@given(when=dates, description=hostile_text)
def test_alarm_times_and_descriptions_at_the_sip_gateway(when: str, description: str) -> None:
    device = device_id()
    plain = alarm_xml(device, encoding="UTF-8")
    for body in (
        with_element(plain, "AlarmTime", when),
        with_element(plain, "AlarmDescription", description),
    ):
        try:
            alarm = manscdp.to_alarm(manscdp.parse(body))
        except manscdp.ManscdpError as exc:
            assert str(exc)
            continue
        clean(alarm)


def with_element(body: bytes, tag: str, value: str) -> bytes:
    start, end = f"<{tag}>".encode(), f"</{tag}>".encode()
    head, _, rest = body.partition(start)
    _, _, tail = rest.partition(end)
    escaped = value.replace("&", "&amp;").replace("<", "&lt;")
    return head + start + escaped.encode("utf-8", "surrogatepass") + end + tail


def test_deeply_nested_input_is_refused_not_crashed() -> None:
    for parse, _ in BASES.values():
        for text in (deep(10_000), deep(10_000, '{"a":', "}")):
            explained(parse, text.encode())
    sip_explained(sip_message(("<a>" * 10_000 + "</a>" * 10_000).encode(), device_id()))


@EDGE_SETTINGS
@given(status=hostile_text)
def test_keepalive_status_with_control_characters_is_refused(status: str) -> None:
    """A Keepalive's Status becomes the event's text: refused (400) like an alarm's, not an
    unexplained exception that left the device without an answer."""
    body = with_element(keepalive_xml(device_id()).replace(b"GB2312", b"UTF-8"), "Status", status)
    try:
        manscdp.to_keepalive(manscdp.parse(body), datetime.now(UTC))
    except manscdp.ManscdpError as exc:
        assert str(exc)
