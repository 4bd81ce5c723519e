"""GB/T 28181 registration on the running stack: sipp plays devices that register with
digest authentication (2016 and 2022), a wrong password and an unregistered sender are
refused and dead-lettered, a 2022 device is subscribed to and its catalog stored with the
rooms of the institution, and a device's online state follows its registration."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from infra.kafka import KafkaPublisher
from models import topics
from models.camera import DeviceChannel, SipRegistration
from models.inspections import InspectionFinding
from models.timeutil import SHANGHAI
from tests import sip_client
from tests.factories import alarm_xml, catalog_xml, device_id, keepalive_xml, sip_message
from tests.kafka_reader import TopicReader
from tests.polling import eventually
from tests.sipp import Step, device_scenario, play, play_device
from tests.test_camera_alarms import (
    cases_of,
    institution_with_device,
    mentions,
    registered,
    udp_exchange,
)
from workers.stack import Stack


def now_text() -> str:
    return datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")


async def dead_letter(stack: Stack, reason: str) -> dict[str, object]:
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        letters = await reader.wait_for(mentions(reason))
    finally:
        reader.close()
    assert letters, reason
    letter: dict[str, object] = json.loads(letters[-1].value)
    return letter


async def test_a_wrong_password_is_refused_after_the_challenge(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    _, _, device = await institution_with_device(producer, db)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    scenario = device_scenario(device, "not-the-password", [], final=403, linger_ms=0)
    run = await play_device(tmp_path / "wrong", sip, scenario)
    assert run.returncode == 0, run.output[-2000:]
    assert "SIP/2.0 401" in run.messages and "SIP/2.0 403" in run.messages
    letter = await dead_letter(stack, f"REGISTER from device {device} refused: wrong password")
    assert str(letter["source"]).count("sip:") == 1
    original = base64.b64decode(str(letter["original_base64"]))
    assert original.startswith(b"REGISTER ") and b"Authorization: Digest" in original
    # Not registered: its alarm is refused too.
    reply = await asyncio.to_thread(udp_exchange, sip, sip_message(alarm_xml(device), device))
    assert reply.startswith(b"SIP/2.0 403"), reply[:200]


async def test_an_alarm_from_a_device_that_did_not_register_is_refused_and_dead_lettered(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    """Finding: MESSAGE was taken from anyone. Now 403, and the original in the dead letter."""
    institution, _, device = await institution_with_device(producer, db)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    body = alarm_xml(device, sn=7, when=now_text())
    run = await play(tmp_path / "unregistered", sip, device, body, expect=403, linger_ms=0)
    assert run.returncode == 0, run.output[-2000:]
    assert "<Result>" not in run.messages  # no Response MESSAGE: nothing was taken
    letter = await dead_letter(stack, f"device '{device}' is not registered")
    original = base64.b64decode(str(letter["original_base64"]))
    assert original.startswith(b"MESSAGE ") and body.strip() in original
    # A keepalive of a device in the registry that never registered: refused as well.
    keepalive = sip_message(keepalive_xml(device), device)
    reply = await asyncio.to_thread(udp_exchange, sip, keepalive)
    assert reply.startswith(b"SIP/2.0 403"), reply[:200]
    assert cases_of(db, institution) == []


async def test_a_2022_device_is_subscribed_to_and_its_channels_tied_to_rooms(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    """An NVR stating X-GB-Ver 3.0: the platform answers with its own version, queries the
    catalog and subscribes to alarms; the NVR lists two channels and sends an alarm of one
    as a NOTIFY in the subscription, which becomes a case naming the room."""
    nvr = device_id().replace("132", "118", 1)  # type 118: network video recorder
    nursery, corridor = device_id(), device_id()
    institution, _, _ = await institution_with_device(
        producer, db, device=nvr, rooms={nursery: "乳儿班活动室"}
    )
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    channels = [(nursery, "IPC-1"), (corridor, "走廊")]
    scenario = device_scenario(
        nvr,
        sip_client.PASSWORD,
        [
            Step(keepalive_xml(nvr), pause_ms=300),
            Step(catalog_xml(nvr, channels)),
            Step(alarm_xml(nursery, sn=3, when=now_text()), method="NOTIFY", pause_ms=300),
        ],
        version="3.0",
    )
    run = await play_device(tmp_path / "nvr", sip, scenario, subscription_expires=900)
    assert run.returncode == 0, run.output[-2000:]
    assert "X-GB-Ver: 3.0" in run.messages
    assert "SUBSCRIBE sip:" in run.messages and "Event: presence" in run.messages
    assert "<Query><CmdType>Catalog</CmdType>" in run.messages  # the platform's questions
    assert "<Query><CmdType>Alarm</CmdType>" in run.messages

    def subscribed() -> SipRegistration | None:
        db.rollback()
        row = db.get(SipRegistration, nvr)
        return row if row is not None and row.subscription_expires_at is not None else None

    assert await eventually(lambda: subscribed() is not None, 30)
    row = subscribed()
    assert row is not None and row.gb_version == "3.0"
    db.rollback()
    rooms = {
        c.channel_id: c.room
        for c in db.exec(select(DeviceChannel).where(DeviceChannel.device_id == nvr)).all()
    }
    assert rooms == {nursery: "乳儿班活动室", corridor: "走廊"}
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 60)
    case = cases_of(db, institution)[0]
    assert "乳儿班活动室" in case.description and "入侵检测报警" in case.description


async def test_a_device_that_unregisters_raises_the_video_system_finding(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    """Online follows registration: REGISTER, then REGISTER with Expires 0 (sipp), and the
    "video system not working" finding is raised without waiting for keepalives."""
    institution, _, device = await institution_with_device(producer, db)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    scenario = device_scenario(device, sip_client.PASSWORD, [], unregister=True, linger_ms=0)
    run = await play_device(tmp_path / "bye", sip, scenario)
    assert run.returncode == 0, run.output[-2000:]
    assert "Expires: 0" in run.messages

    def finding() -> InspectionFinding | None:
        db.rollback()
        return db.exec(
            select(InspectionFinding).where(InspectionFinding.institution_id == institution)
        ).first()

    assert await eventually(lambda: finding() is not None, 60)
    found = finding()
    assert found is not None and found.code == "video-psb"
    reply = await asyncio.to_thread(udp_exchange, sip, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 403"), reply[:200]


async def test_sha256_digest_and_the_keepalive_interval_of_the_registry(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    """A device with a SHA-256 HA1 is offered SHA-256 first (RFC 8760), MD5 second; its
    registration tells the stream the device is offline after 3 of its 20 s intervals."""
    institution, _, device = await sha256_device(producer, db)
    target = (stack.settings.sip_host, stack.settings.sip_port)
    challenge, reply = await asyncio.to_thread(
        sip_client.register, target, device, algorithm="SHA-256"
    )
    text = challenge.decode()
    assert text.index("algorithm=SHA-256") < text.index("algorithm=MD5")
    assert reply.startswith(b"SIP/2.0 200"), reply[:300]
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.CAMERA_ALARMS)
    try:
        [record] = await reader.wait_for(
            lambda r: r.key == device.encode() and b'"registered"' in r.value
        )
    finally:
        reader.close()
    event = json.loads(record.value)
    assert event["offline_after"] == 60.0 and event["institution_id"] == institution
    await registered(stack, device)  # MD5 still works for the same device


async def sha256_device(producer: KafkaPublisher, db: Session) -> tuple[str, str, str]:
    device = device_id()
    return await institution_with_device(
        producer,
        db,
        device=device,
        keepalive_interval=20,
        sip_ha1_sha256=sip_client.ha1(device, algo="sha256"),
    )


async def test_offline_after_three_missed_keepalives_at_the_device_interval(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    """A device whose registry entry says it keeps alive every 5 s is offline 15 s after its
    last keepalive (not after TUOYU_KEEPALIVE_TIMEOUT), and the finding says so."""
    institution, _, device = await institution_with_device(producer, db, keepalive_interval=5)
    await registered(stack, device)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    reply = await asyncio.to_thread(udp_exchange, sip, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 200"), reply[:200]
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 90)
    case = cases_of(db, institution)[0]
    assert case.category == "video-system" and "心跳中断超过 15 秒" in case.description


async def test_the_alarm_subscription_is_refreshed_in_its_dialog(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    """The 2022 device grants the subscription for 12 s only: the platform refreshes it in
    the same dialog (same Call-ID and tags, next CSeq) once two thirds have passed."""
    _, _, device = await institution_with_device(producer, db)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    linger = int((12 * 2 / 3 + 2 * stack.settings.sip_sweep_interval + 2) * 1000)
    scenario = device_scenario(device, sip_client.PASSWORD, [], version="3.0", linger_ms=linger)
    run = await play_device(tmp_path / "refresh", sip, scenario, subscription_expires=12)
    assert run.returncode == 0, run.output[-2000:]
    subscribes = [m for m in run.messages.split("\n\n") if m.lstrip().startswith("SUBSCRIBE ")]
    assert len(subscribes) >= 2, run.messages[-3000:]

    def header(message: str, name: str) -> str:
        found = re.search(rf"^{name}:\s*(.*?)\r?$", message, re.M | re.I)
        assert found, (name, message)
        return found.group(1)

    first, second = subscribes[0], subscribes[1]
    assert header(first, "Call-ID") == header(second, "Call-ID")
    assert header(first, "CSeq") == "1 SUBSCRIBE" and header(second, "CSeq") == "2 SUBSCRIBE"
    assert ";tag=" in header(second, "To")  # in the dialog the device's answer made
