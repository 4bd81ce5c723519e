"""Pure logic: SIP messages and MANSCDP bodies, including every kind of bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.sip import manscdp, messages
from api.sip.messages import SipError
from models.camera import CameraAlarmKind
from tests.factories import alarm_xml, device_id, keepalive_xml, sip_message

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>&lol3;</DeviceID></Notify>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE n [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>&xxe;</DeviceID></Notify>"""


def test_a_gb2312_alarm_is_normalised() -> None:
    device = device_id()
    command = manscdp.parse(alarm_xml(device))
    alarm = manscdp.to_alarm(command)
    assert command.encoding == "gb18030"
    assert alarm.kind is CameraAlarmKind.INTRUSION
    assert alarm.device_id == device and alarm.alarm_priority == 1
    assert alarm.alarm_methods == [5] and alarm.alarm_type == 6 and alarm.event_type == 1
    assert alarm.occurred_at == datetime(2026, 11, 29, 2, 15, tzinfo=UTC)  # Beijing 10:15
    assert alarm.description is not None and "入侵检测报警" in alarm.description
    assert "有人闯入" in alarm.description
    assert alarm.longitude == pytest.approx(107.98)
    # Retransmissions of the same alarm get the same event id.
    assert manscdp.to_alarm(manscdp.parse(alarm_xml(device))).event_id == alarm.event_id


@pytest.mark.parametrize(
    ("method", "alarm_type", "kind"),
    [
        ("5", 6, CameraAlarmKind.INTRUSION),
        ("5", 5, CameraAlarmKind.INTRUSION),
        ("5", 2, CameraAlarmKind.VIDEO_ALARM),
        ("2", 1, CameraAlarmKind.DEVICE_ALARM),
        ("6", 1, CameraAlarmKind.DEVICE_FAULT),
        ("1", None, CameraAlarmKind.OTHER),
        ("2/5", 6, CameraAlarmKind.INTRUSION),
        ("26", 1, CameraAlarmKind.DEVICE_ALARM),
        ("7,6", None, CameraAlarmKind.DEVICE_FAULT),
    ],
)
def test_alarm_methods_and_types_map_to_kinds(
    method: str, alarm_type: int | None, kind: CameraAlarmKind
) -> None:
    body = alarm_xml(device_id(), method=method, alarm_type=alarm_type, encoding="UTF-8")
    assert manscdp.to_alarm(manscdp.parse(body)).kind is kind


def test_a_keepalive_and_the_alarm_response() -> None:
    device = device_id()
    command = manscdp.parse(keepalive_xml(device, sn=7))
    keepalive = manscdp.to_keepalive(command, datetime.now(UTC))
    assert keepalive.kind is CameraAlarmKind.KEEPALIVE and keepalive.device_id == device
    alarm = manscdp.parse(alarm_xml(device, sn=42))
    answer = manscdp.alarm_response(alarm)
    assert answer.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
    for part in (b"<CmdType>Alarm</CmdType>", b"<SN>42</SN>", b"<Result>OK</Result>"):
        assert part in answer
    assert f"<DeviceID>{device}</DeviceID>".encode() in answer


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<Notify><CmdType>Alarm</CmdType>", "malformed XML"),
        (BILLION_LAUGHS, "forbidden XML construct"),
        (EXTERNAL_ENTITY, "forbidden XML construct"),
        (b'<?xml version="1.0" encoding="EBCDIC"?><a/>', "unsupported encoding"),
        (b'<?xml version="1.0" encoding="UTF-8"?><Notify>\xff\xfe\x80</Notify>', "neither"),
        (b"<Notify><SN>1</SN><DeviceID>1</DeviceID></Notify>", "no CmdType"),
        (b"<Notify><CmdType>Alarm</CmdType><SN>1</SN></Notify>", "DeviceID"),
        (b"<Notify><CmdType>Alarm</CmdType><SN>x</SN><DeviceID>1</DeviceID></Notify>", "SN"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(manscdp.ManscdpError, match=reason):
        manscdp.parse(body)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"priority": 9}, "AlarmPriority must be 1-4"),
        # str.isdigit() is true of a superscript one; int() refuses it (found by the fuzzer).
        ({"priority": "¹"}, "AlarmPriority must be 1-4"),
        ({"priority": "２"}, "AlarmPriority must be 1-4"),
        ({"method": "8"}, "AlarmMethod must be digits 1-7"),
        ({"method": "five"}, "AlarmMethod must be digits 1-7"),
        ({"when": "yesterday"}, "AlarmTime is not a date-time"),
        ({"alarm_type": 123}, "AlarmType must be 0-99"),
    ],
)
def test_bad_alarm_fields_are_refused(kwargs: dict[str, object], reason: str) -> None:
    body = alarm_xml(device_id(), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(manscdp.ManscdpError, match=reason):
        manscdp.to_alarm(manscdp.parse(body))


def test_sip_requests_parse_and_are_answered() -> None:
    device = device_id()
    raw = sip_message(alarm_xml(device), device)
    request = messages.parse(raw)
    assert request.method == "MESSAGE" and request.header("content-type") == (
        "Application/MANSCDP+xml"
    )
    assert request.body == alarm_xml(device)
    reply = messages.parse(messages.response(request, 200).encode())
    assert not reply.is_request and reply.status == 200
    assert reply.header("call-id") == request.header("call-id")
    assert reply.header("via") == request.header("via")
    assert ";tag=" in (reply.header("to") or "")


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (b"MESSAGE sip:x SIP/2.0\r\nVia: a\r\n", 400, "no blank line"),
        (b"HELLO\r\n\r\n", 400, "bad request line"),
        (b"MESSAGE sip:x SIP/2.0\r\nVia: a\r\nbroken\r\n\r\n", 400, "bad header line"),
        (b"MESSAGE sip:x SIP/2.0\r\nVia: a\r\n\r\n", 400, "missing from header"),
        (b"MESSAGE sip:x SIP/2.0\r\n\xff: \xfe\r\n\r\n", 400, "not UTF-8"),
        ("SIP/2.0 ²00 OK\r\nVia: a\r\n\r\n".encode(), 400, "bad status line"),
        (b"X" * (messages.MAX_MESSAGE_BYTES + 1), 513, "over"),
    ],
)
def test_malformed_sip_is_a_400(raw: bytes, status: int, reason: str) -> None:
    with pytest.raises(SipError, match=reason) as caught:
        messages.parse(raw)
    assert caught.value.status == status


def test_content_length_beyond_the_body_is_a_400() -> None:
    device = device_id()
    raw = sip_message(alarm_xml(device), device).replace(b"Content-Length: ", b"Content-Length: 9")
    with pytest.raises(SipError, match="shorter than Content-Length"):
        messages.parse(raw)
