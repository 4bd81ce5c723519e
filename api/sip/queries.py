"""What the platform asks of a registered device (GB/T 28181 annex A): the Catalog query
sent after registration and its Response parsed into channels; the 2022 alarm
subscription's body."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from api.sip.manscdp import Command, ManscdpError
from api.sip.registrations import Channel
from models.timeutil import SHANGHAI

MAX_CHANNELS = 1024  # per Response message; an NVR lists a few dozen
_ID = re.compile(r"[0-9A-Za-z_\-]{1,64}")


def _body(root_tag: str, fields: list[tuple[str, str]]) -> bytes:
    root = ET.Element(root_tag)
    for tag, value in fields:
        ET.SubElement(root, tag).text = value
    xml = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="GB2312"?>\r\n{xml}\r\n'.encode("gb18030")


def catalog_query(device_id: str, sn: int) -> bytes:
    return _body("Query", [("CmdType", "Catalog"), ("SN", str(sn)), ("DeviceID", device_id)])


def alarm_subscription(device_id: str, sn: int, now: datetime, expires: int) -> bytes:
    """GB/T 28181 alarm subscription (A.2.4.9 in 2016, kept in 2022): every priority and
    method, from now until the subscription's end, local time."""
    start = now.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    end = start + timedelta(seconds=expires)
    return _body(
        "Query",
        [
            ("CmdType", "Alarm"),
            ("SN", str(sn)),
            ("DeviceID", device_id),
            ("StartAlarmPriority", "1"),
            ("EndAlarmPriority", "4"),
            ("AlarmMethod", "0"),
            ("StartAlarmTime", start.isoformat()),
            ("EndAlarmTime", end.isoformat()),
        ],
    )


def catalog_channels(command: Command) -> list[Channel]:
    """The channels of a Catalog Response (one page of it: devices send SumNum items in as
    many messages as they like)."""
    if command.root != "Response" or command.cmd_type != "Catalog":
        raise ManscdpError("not a Catalog response")
    listing = command.element.find("DeviceList")
    items = listing.findall("Item") if listing is not None else []
    if len(items) > MAX_CHANNELS:
        raise ManscdpError(f"more than {MAX_CHANNELS} channels in one Catalog response")
    channels = []
    for item in items:
        channel_id = (item.findtext("DeviceID") or "").strip()
        if not _ID.fullmatch(channel_id):
            raise ManscdpError("Catalog item without a well-formed DeviceID")
        name = (item.findtext("Name") or "").strip()[:200] or None
        if name is not None and any(ord(c) < 32 for c in name):
            raise ManscdpError("Catalog item name with control characters")
        status = (item.findtext("Status") or "").strip()[:16] or None
        channels.append(Channel(channel_id, name, status))
    return channels
