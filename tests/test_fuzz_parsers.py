"""Property-based tests of every inbound schema and channel parser: whatever arrives, the
answer is a parsed event or the channel's own explained rejection, never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.sip import manscdp, messages
from infra.identity import IdentityHasher
from infra.intake import (
    InvalidEvent,
    parse_camera_alarm,
    parse_complaint,
    parse_inspection,
    parse_registry,
)
from tests.factories import alarm_xml, complaint_payload, device_id, sip_message
from tests.strategies import json_values

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
