"""MANSCDP XML (GB/T 28181 annex A) bodies: decoding (GB2312 or UTF-8), defensive parsing
(no DTDs, no entities), and the Alarm and Keepalive notifications normalised to
`CameraAlarm`s."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import ValidationError

from models.bounds import not_ahead
from models.camera import CameraAlarm, CameraAlarmKind
from models.timeutil import SHANGHAI

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_\-]+)[\"'][^>]*\?>")
# GB2312 text is a subset of GB18030; devices often declare one and mean the other.
_CODECS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "utf-8": "utf-8"}

# GB/T 28181-2016 A.2.6 alarm methods; for device (2), video (5) and fault (6) alarms the
# AlarmType says more.
METHODS = {
    1: "电话报警", 2: "设备报警", 3: "短信报警", 4: "GPS报警", 5: "视频报警", 6: "设备故障报警",
    7: "其他报警",
}  # fmt: skip
DEVICE_TYPES = {
    1: "视频丢失报警", 2: "设备防拆报警", 3: "存储设备磁盘满报警", 4: "设备高温报警",
    5: "设备低温报警",
}  # fmt: skip
VIDEO_TYPES = {
    1: "人工视频报警", 2: "运动目标检测报警", 3: "遗留物检测报警", 4: "物体移除检测报警",
    5: "绊线检测报警", 6: "入侵检测报警", 7: "逆行检测报警", 8: "徘徊检测报警",
    9: "流量统计报警", 10: "密度检测报警", 11: "视频异常检测报警", 12: "快速移动报警",
}  # fmt: skip
FAULT_TYPES = {1: "存储设备磁盘故障报警", 2: "存储设备风扇故障报警"}
INTRUSION_TYPES = {5, 6, 8}  # tripwire, intrusion, loitering
# When a device combines methods, the alarm counts as the most serious of them.
RANK = [
    CameraAlarmKind.INTRUSION,
    CameraAlarmKind.VIDEO_ALARM,
    CameraAlarmKind.DEVICE_ALARM,
    CameraAlarmKind.DEVICE_FAULT,
    CameraAlarmKind.OTHER,
]


class ManscdpError(ValueError):
    """A body that cannot be understood; the gateway answers 400 with this reason."""


@dataclass
class Command:
    root: str  # Notify, Response, ...
    cmd_type: str
    sn: str
    device_id: str
    encoding: str
    element: ET.Element

    def text(self, path: str) -> str | None:
        found = self.element.find(path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None


def decode(body: bytes) -> tuple[str, str]:
    """The body as text, and the codec it was in."""
    if not body.strip():
        raise ManscdpError("empty body")
    match = _DECLARATION.match(body)
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    codec = _CODECS.get(declared)
    if codec is None:
        raise ManscdpError(f"unsupported encoding {declared!r}: GB2312 or UTF-8")
    for attempt in dict.fromkeys([codec, "utf-8", "gb18030"]):
        try:
            text = body.decode(attempt)
        except UnicodeDecodeError:
            continue
        return _DECLARATION_TEXT.sub("", text, count=1), attempt
    raise ManscdpError(f"body is neither valid {declared} nor UTF-8")


_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse(body: bytes) -> Command:
    text, codec = decode(body)
    try:
        root = fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ManscdpError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except ET.ParseError as exc:
        raise ManscdpError(f"malformed XML: {exc}") from exc
    command = Command(root.tag, "", "", "", codec, root)
    command.cmd_type = command.text("CmdType") or ""
    command.sn = command.text("SN") or ""
    command.device_id = command.text("DeviceID") or ""
    if not command.cmd_type:
        raise ManscdpError("no CmdType")
    if not command.device_id or not re.fullmatch(r"[0-9A-Za-z_\-]{1,64}", command.device_id):
        raise ManscdpError("missing or malformed DeviceID")
    if not re.fullmatch(r"[0-9]{1,10}", command.sn):
        raise ManscdpError("missing or malformed SN")
    return command


def _int(command: Command, path: str, lo: int, hi: int) -> int | None:
    raw = command.text(path)
    if raw is None:
        return None
    # ASCII digits only: str.isdigit() is true of '¹' and '５', which int() refuses or reads.
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise ManscdpError(f"{path} must be {lo}-{hi}, got {raw[:20]!r}")
    return int(raw)


def _float(command: Command, path: str) -> float | None:
    raw = command.text(path)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ManscdpError(f"{path} is not a number: {raw[:20]!r}") from exc


def methods(raw: str | None) -> list[int]:
    """AlarmMethod: one digit 1-7, or several ("2/5", "2,5", "25")."""
    if raw is None:
        raise ManscdpError("no AlarmMethod")
    digits = re.sub(r"[\s/,|]", "", raw)
    if not digits.isdigit() or any(d not in "1234567" for d in digits):
        raise ManscdpError(f"AlarmMethod must be digits 1-7, got {raw[:20]!r}")
    return sorted({int(d) for d in digits})


def kind_of(alarm_methods: list[int], alarm_type: int | None) -> CameraAlarmKind:
    kinds = []
    for method in alarm_methods:
        if method == 5:
            intrusion = alarm_type in INTRUSION_TYPES
            kinds.append(CameraAlarmKind.INTRUSION if intrusion else CameraAlarmKind.VIDEO_ALARM)
        elif method == 2:
            kinds.append(CameraAlarmKind.DEVICE_ALARM)
        elif method == 6:
            kinds.append(CameraAlarmKind.DEVICE_FAULT)
        else:
            kinds.append(CameraAlarmKind.OTHER)
    return min(kinds, key=RANK.index)


def alarm_time(raw: str | None) -> datetime:
    """AlarmTime is local time (Beijing) without an offset: 2026-11-29T10:15:00."""
    if raw is None:
        raise ManscdpError("no AlarmTime")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ManscdpError(f"AlarmTime is not a date-time: {raw[:40]!r}") from exc
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def describe(alarm_methods: list[int], alarm_type: int | None) -> str:
    names = []
    for method in alarm_methods:
        table = {2: DEVICE_TYPES, 5: VIDEO_TYPES, 6: FAULT_TYPES}.get(method, {})
        names.append(table.get(alarm_type or 0) or METHODS[method])
    return "、".join(dict.fromkeys(names))


def to_alarm(command: Command) -> CameraAlarm:
    """An Alarm notification as a normalised camera alarm; the event id is stable across a
    device's retransmissions (device, SN and alarm time)."""
    priority = _int(command, "AlarmPriority", 1, 4)
    if priority is None:
        raise ManscdpError("no AlarmPriority")
    found = methods(command.text("AlarmMethod"))
    alarm_type = _int(command, "Info/AlarmType", 0, 99)
    if alarm_type is None:
        alarm_type = _int(command, "AlarmType", 0, 99)
    event_type = _int(command, "Info/AlarmTypeParam/EventType", 0, 99)
    at = alarm_time(command.text("AlarmTime"))
    ahead = not_ahead(at, datetime.now(UTC), "AlarmTime")
    if ahead is not None:  # a device clock a day ahead is wrong, not early
        raise ManscdpError(ahead)
    text = command.text("AlarmDescription")
    summary = describe(found, alarm_type)
    try:
        return CameraAlarm(
            event_id=f"sip:{command.device_id}:{command.sn}:{at.isoformat()}",
            occurred_at=at,
            kind=kind_of(found, alarm_type),
            device_id=command.device_id,
            description=f"{summary}：{text}" if text else summary,
            alarm_priority=priority,
            alarm_methods=found,
            alarm_type=alarm_type,
            event_type=event_type,
            longitude=_float(command, "Longitude"),
            latitude=_float(command, "Latitude"),
            source="sip",
        )
    except ValidationError as exc:
        raise ManscdpError(f"alarm out of range: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])


def to_keepalive(command: Command, received_at: datetime) -> CameraAlarm:
    try:
        return CameraAlarm(
            event_id=f"sip:{command.device_id}:keepalive:{command.sn}:"
            f"{int(received_at.timestamp())}",
            occurred_at=received_at,
            kind=CameraAlarmKind.KEEPALIVE,
            device_id=command.device_id,
            description=command.text("Status"),
            source="sip",
        )
    except ValidationError as exc:  # a Status with control characters, or too long
        raise ManscdpError(f"keepalive out of range: {_problems(exc)}") from exc


def alarm_response(command: Command, result: str = "OK") -> bytes:
    """The platform's answer to an Alarm, in the encoding the device used."""
    declared = "GB2312" if command.encoding == "gb18030" else "UTF-8"
    root = ET.Element("Response")
    for tag, value in (
        ("CmdType", "Alarm"),
        ("SN", command.sn),
        ("DeviceID", command.device_id),
        ("Result", result),
    ):
        ET.SubElement(root, tag).text = value
    xml = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="{declared}"?>\r\n{xml}\r\n'.encode(command.encoding)
