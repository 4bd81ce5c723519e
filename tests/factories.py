"""Small factories for test data."""

from __future__ import annotations

import json
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
        # (12 hex digits: with 6, two of a 2,000-complaint run shared a name one time in ten.)
        "institution_name": f"炉山镇阳光托育中心{uuid.uuid4().hex[:12]}",
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


def device_id() -> str:
    """A made-up 20-digit GB/T 28181 device id in Kaili (522601), type 132 (camera)."""
    return f"52260100001320{uuid.uuid4().int % 10**6:06d}"


def alarm_xml(
    device: str,
    *,
    sn: int = 1,
    priority: int = 1,
    method: str = "5",
    alarm_type: int | None = 6,
    description: str = "教室区域检测到有人闯入",
    when: str = "2026-11-29T10:15:00",
    encoding: str = "GB2312",
) -> bytes:
    info = (
        f"<Info><AlarmType>{alarm_type}</AlarmType>"
        "<AlarmTypeParam><EventType>1</EventType></AlarmTypeParam></Info>"
        if alarm_type is not None
        else ""
    )
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n'
        f"<SN>{sn}</SN>\r\n<DeviceID>{device}</DeviceID>\r\n"
        f"<AlarmPriority>{priority}</AlarmPriority>\r\n<AlarmMethod>{method}</AlarmMethod>\r\n"
        f"<AlarmTime>{when}</AlarmTime>\r\n<AlarmDescription>{description}</AlarmDescription>\r\n"
        f"<Longitude>107.98</Longitude>\r\n<Latitude>26.58</Latitude>\r\n{info}\r\n</Notify>\r\n"
    )
    return text.encode("gb18030" if encoding.upper() == "GB2312" else "utf-8")


def keepalive_xml(device: str, sn: int = 1) -> bytes:
    return (
        '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n'
        f"<SN>{sn}</SN>\r\n<DeviceID>{device}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n"
    ).encode("ascii")


def sip_message(
    body: bytes, device: str, *, content_type: str = "Application/MANSCDP+xml"
) -> bytes:
    head = (
        f"MESSAGE sip:52260100002000000001@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
        f"From: <sip:{device}@127.0.0.1:5070>;tag={uuid.uuid4().hex[:8]}\r\n"
        "To: <sip:52260100002000000001@127.0.0.1:5060>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\n"
        "CSeq: 20 MESSAGE\r\nMax-Forwards: 70\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def registry_event(kind: str, **fields: Any) -> bytes:
    """A registry event as it arrives on `tuoyu.registry`."""
    return json.dumps(
        {
            "type": kind,
            "event_id": f"reg-{uuid.uuid4()}",
            "occurred_at": datetime.now(UTC).isoformat(),
            **fields,
        },
        ensure_ascii=False,
    ).encode()


def spelled(number: str, digits: dict[int, str], positions: range | None = None) -> str:
    """`number` with the ASCII digits at `positions` (default: all) written with
    `digits[value]`, e.g. full-width `FULL_WIDTH` or Arabic-Indic `ARABIC_INDIC`."""
    where = positions if positions is not None else range(len(number))
    return "".join(
        digits[int(c)] if i in where and c.isascii() and c.isdigit() else c
        for i, c in enumerate(number)
    )


FULL_WIDTH = {d: chr(0xFF10 + d) for d in range(10)}  # ０..９
ARABIC_INDIC = {d: chr(0x0660 + d) for d in range(10)}  # ٠..٩


def catalog_xml(device: str, channels: list[tuple[str, str]], sn: int = 1) -> bytes:
    """A device's Catalog Response (GB/T 28181 A.2.6.4) listing `(channel id, name)`s."""
    items = "".join(
        f"<Item>\r\n<DeviceID>{channel}</DeviceID>\r\n<Name>{name}</Name>\r\n"
        f"<Manufacturer>Hikvision</Manufacturer>\r\n<ParentID>{device}</ParentID>\r\n"
        "<Status>ON</Status>\r\n</Item>\r\n"
        for channel, name in channels
    )
    return (
        '<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n'
        f"<SN>{sn}</SN>\r\n<DeviceID>{device}</DeviceID>\r\n<SumNum>{len(channels)}</SumNum>\r\n"
        f'<DeviceList Num="{len(channels)}">\r\n{items}</DeviceList>\r\n</Response>\r\n'
    ).encode("gb18030")
