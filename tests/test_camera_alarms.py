"""Camera alarms on the running stack: sipp plays a GB/T 28181 device over UDP and TCP;
alarms become cases at the right priority, a storm is one case with a count, a device whose
keepalives stop raises a video-system finding, and bad input is answered 4xx and
dead-lettered."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from infra.identity import load_hasher, mask
from infra.kafka import KafkaPublisher
from models import topics
from models.audit import AuditRecord
from models.camera import Device
from models.cases import Case
from models.inspections import FindingStatus, InspectionFinding, InspectionKind
from models.timeutil import SHANGHAI
from tests import sip_client
from tests.auth import Tokens
from tests.factories import (
    alarm_xml,
    device_id,
    identity_number,
    keepalive_xml,
    registry_event,
    sip_message,
)
from tests.kafka_reader import TopicReader
from tests.polling import eventually
from tests.sip_client import secrets_of
from tests.sipp import Step, device_scenario, play, play_device
from workers.stack import Stack


async def institution_with_device(
    producer: KafkaPublisher,
    db: Session,
    town: str = "street-ximen",
    *,
    device: str | None = None,
    keepalive_interval: int | None = 3600,
    **fields: Any,
) -> tuple[str, str, str]:
    """A registered institution and a camera registered to it, with the SIP password
    `PASSWORD` (its HA1): (institution id, name, device). The keepalive interval is long by
    default, so that a device that registered and then sends nothing stays online."""
    institution = f"INST-{uuid.uuid4().hex[:8]}"
    name = f"西门街道小天使托育园{uuid.uuid4().hex[:4]}"
    device = device or device_id()
    if keepalive_interval is not None:
        fields["keepalive_interval"] = keepalive_interval
    producer.publish(
        topics.REGISTRY,
        institution,
        registry_event(
            "institution-registered",
            institution_id=institution,
            name=name,
            town=town,
            registrar="samr",
        ),
    )
    producer.publish(
        topics.REGISTRY,
        institution,
        registry_event(
            "device-registered",
            device_id=device,
            institution_id=institution,
            name="教室一",
            **{**secrets_of(device), **fields},
        ),
    )

    def registered() -> bool:
        db.rollback()
        return db.get(Device, device) is not None

    assert await eventually(registered, 60)
    return institution, name, device


async def registered(stack: Stack, device: str, **options: Any) -> bytes:
    """The device registers (digest) over UDP; the gateway's 200 OK."""
    target = (stack.settings.sip_host, stack.settings.sip_port)
    _, reply = await asyncio.to_thread(sip_client.register, target, device, **options)
    assert reply.startswith(b"SIP/2.0 200"), reply[:300]
    return reply


def cases_of(db: Session, institution: str) -> list[Case]:
    db.rollback()
    return list(db.exec(select(Case).where(Case.institution_id == institution)).all())


@pytest.mark.parametrize("transport", ["u1", "t1"])
async def test_a_sipp_device_registers_keeps_alive_and_its_alarms_become_a_case(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path, transport: str
) -> None:
    """A GB/T 28181-2016 device as sipp plays it: REGISTER with digest (401, then 200 OK),
    a keepalive, an alarm in GB2312 and one in UTF-8; both alarms are answered with the
    platform's Response MESSAGE and become one critical case (one storm window)."""
    institution, name, device = await institution_with_device(producer, db)
    sip = (stack.settings.sip_host, stack.settings.sip_port)
    when = datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
    scenario = device_scenario(
        device,
        sip_client.PASSWORD,
        [
            Step(keepalive_xml(device)),
            Step(alarm_xml(device, sn=1, priority=1, when=when)),
            Step(alarm_xml(device, sn=2, priority=1, when=when, encoding="UTF-8")),
        ],
    )
    run = await play_device(tmp_path / transport, sip, scenario, transport=transport)
    assert run.returncode == 0, run.output[-2000:]
    assert "WWW-Authenticate: Digest" in run.messages and "algorithm=MD5" in run.messages
    assert re.search(r"Date: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\r?\n", run.messages)
    assert "Expires: 3600" in run.messages
    # The platform's own MESSAGE came back with the result, and sipp answered it.
    assert "<CmdType>Alarm</CmdType>" in run.messages
    assert "<Result>OK</Result>" in run.messages
    assert f"<DeviceID>{device}</DeviceID>" in run.messages
    assert 'encoding="UTF-8"' in run.messages and 'encoding="GB2312"' in run.messages

    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 60)
    case = cases_of(db, institution)[0]
    assert (case.category, case.priority, case.channel) == ("video-alarm", "critical", "camera")
    assert case.handler == "psb"  # Public Security leads, the street alongside
    assert case.town == "street-ximen" and case.institution_name == name
    assert "入侵检测报警" in case.description and "有人闯入" in case.description


async def test_an_alarm_storm_over_tcp_is_one_case_with_a_count(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    institution, _, device = await institution_with_device(producer, db, "town-lushan")
    await registered(stack, device)
    window = stack.settings.alarm_storm_window
    # The burst (6 calls at 50/s, about 0.2 s) must fall in one tumbling window: start with
    # at least 1.5 s of the current window left.
    assert await eventually(lambda: window - time.time() % window >= 1.5, window)
    body = alarm_xml(device, sn=100, priority=3, method="5", alarm_type=2)
    body = body.replace(b"<SN>100</SN>", b"<SN>[call_number]</SN>")
    run = await play(
        tmp_path / "tcp", (stack.settings.sip_host, stack.settings.sip_port), device, body,
        calls=6, transport="t1", rate=50, linger_ms=500,
    )  # fmt: skip
    assert run.returncode == 0, run.output[-2000:]
    assert await eventually(lambda: len(cases_of(db, institution)) >= 1, 60)

    def storm_recorded() -> bool:
        db.rollback()
        return (
            db.exec(
                select(AuditRecord)
                .where(AuditRecord.case_id == cases_of(db, institution)[0].id)
                .where(AuditRecord.action == "case.alarm-storm")
            ).first()
            is not None
        )

    assert await eventually(storm_recorded, 60)
    cases = cases_of(db, institution)
    assert len(cases) == 1, [(c.id, c.status) for c in cases]
    assert (cases[0].category, cases[0].priority) == ("video-alarm", "high")
    storm = db.exec(
        select(AuditRecord)
        .where(AuditRecord.case_id == cases[0].id)
        .where(AuditRecord.action == "case.alarm-storm")
    ).one()
    assert storm.details["count"] == 6
    assert "报警 6 次" in (storm.reason or "")


async def test_a_device_whose_keepalives_stop_raises_a_video_system_finding(
    stack: Stack, producer: KafkaPublisher, db: Session, tmp_path: Path
) -> None:
    institution, _, device = await institution_with_device(
        producer, db, keepalive_interval=None
    )  # silent for TUOYU_KEEPALIVE_TIMEOUT (4 s in the tests) after its last keepalive
    await registered(stack, device)
    run = await play(
        tmp_path / "keepalive",
        (stack.settings.sip_host, stack.settings.sip_port),
        device,
        keepalive_xml(device),
        linger_ms=0,
    )
    assert run.returncode == 0, run.output[-2000:]
    assert "<Result>" not in run.messages  # a keepalive gets a 200, no Response MESSAGE

    def finding() -> InspectionFinding | None:
        db.rollback()
        return db.exec(
            select(InspectionFinding).where(InspectionFinding.institution_id == institution)
        ).first()

    assert await eventually(lambda: finding() is not None, 60)
    found = finding()
    assert found is not None
    assert (found.kind, found.code, found.severity) == (
        InspectionKind.MONITORING,
        "video-psb",
        "serious",
    )
    assert found.status == FindingStatus.CASE
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 60)
    case = cases_of(db, institution)[0]
    assert case.id == found.case_id
    assert (case.category, case.channel) == ("video-system", "camera")


def mentions(reason: str) -> Callable[[Any], bool]:
    return lambda record: reason in json.loads(record.value)["reason"]


def udp_exchange(target: tuple[str, int], datagram: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.sendto(datagram, target)
        return sock.recv(65536)


def tcp_exchange(target: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(target, timeout=10) as sock:
        sock.sendall(data)
        return sock.recv(65536)


async def test_bad_sip_input_is_answered_4xx_and_dead_lettered(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    institution, _, device = await institution_with_device(producer, db)
    await registered(stack, device)
    target = (stack.settings.sip_host, stack.settings.sip_port)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>&b;</DeviceID></Notify>"
    )
    cases = [
        (sip_message(bomb, device), b"SIP/2.0 400", "forbidden XML construct"),
        (sip_message(b"<Notify><CmdType>Alarm", device), b"SIP/2.0 400", "malformed XML"),
        (
            sip_message(b'<?xml version="1.0" encoding="UTF-8"?><Notify>\xff\xfe</Notify>', device),
            b"SIP/2.0 400",
            "neither valid",
        ),
        (
            sip_message(alarm_xml(device, priority=7), device),
            b"SIP/2.0 400",
            "AlarmPriority must be 1-4",
        ),
        (
            sip_message(alarm_xml(device), device, content_type="text/plain"),
            b"SIP/2.0 415",
            "Content-Type must be",
        ),
    ]
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        for datagram, status, reason in cases:
            reply = await asyncio.to_thread(udp_exchange, target, datagram)
            assert reply.startswith(status), (reason, reply[:200])
            letters = await reader.wait_for(mentions(reason))
            assert letters, reason
            letter = json.loads(letters[-1].value)
            assert letter["source"]["channel"].startswith("sip:")
        # Over TCP too, and a message too large is refused before its body is read.
        reply = await asyncio.to_thread(
            tcp_exchange,
            target,
            sip_message(b"<Notify>", device).replace(b"\r\n\r\n", b"\r\n\r\n", 1),
        )
        assert reply.startswith(b"SIP/2.0 400"), reply[:200]
        huge = sip_message(b"x" * 70_000, device)
        reply = await asyncio.to_thread(tcp_exchange, target, huge)
        assert reply.startswith(b"SIP/2.0 513"), reply[:200]
    finally:
        reader.close()
    # Nothing crashed: a good alarm after all that still becomes a case.
    reply = await asyncio.to_thread(udp_exchange, target, sip_message(alarm_xml(device), device))
    assert reply.startswith(b"SIP/2.0 200")
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 60)


async def test_the_json_alarm_api_for_systems_without_sip(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher, db: Session
) -> None:
    institution, _, device = await institution_with_device(producer, db, "town-lushan")
    psb = tokens.headers("department", "psb")
    alarm = {
        "event_id": f"api-{uuid.uuid4()}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "kind": "intrusion",
        "device_id": device,
        "alarm_priority": 2,
        "description": "夜间园区周界入侵",
    }
    response = await http.post("/api/v1/alarms", json=alarm, headers=psb)
    assert response.status_code == 202, response.text
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 60)
    case = cases_of(db, institution)[0]
    assert (case.category, case.priority, case.handler) == ("video-alarm", "high", "town-lushan")

    bad = [
        ({**alarm, "kind": "earthquake"}, 422),
        ({**alarm, "alarm_priority": 0}, 422),
        ({**alarm, "alarm_methods": [9]}, 422),
        ({**alarm, "kind": "device-offline"}, 422),
        ({**alarm, "kind": "registered"}, 422),
        ({**alarm, "kind": "unregistered"}, 422),
        ({**alarm, "kind": "face-match"}, 422),
        ({**alarm, "occurred_at": "2026-11-29T10:00:00"}, 422),
    ]
    for body, status in bad:
        response = await http.post("/api/v1/alarms", json=body, headers=psb)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    response = await http.post("/api/v1/alarms", json=alarm, headers=tokens.headers("auditor"))
    assert response.status_code == 403

    # A face-recognition match goes through with the person, for the ban check downstream.
    seen_id, seen_number = f"api-{uuid.uuid4()}", identity_number()
    seen = {
        **alarm,
        "event_id": seen_id,
        "kind": "face-match",
        "person": {"id_number": seen_number, "name": "赵某"},
    }
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.CAMERA_ALARMS)
    try:
        response = await http.post("/api/v1/alarms", json=seen, headers=psb)
        assert response.status_code == 202, response.text
        [record] = await reader.wait_for(lambda r: seen_id.encode() in r.value)
    finally:
        reader.close()
    # On the topic: the keyed hash and the masked number, the number itself sealed.
    assert (
        seen_number.encode() not in record.value and seen_number[6:17].encode() not in record.value
    )
    produced = json.loads(record.value)
    assert produced["person"] is None and produced["person_sealed"]["ciphertext"]
    hasher = load_hasher(stack.settings)
    assert produced["person_ref"]["id_masked"] == mask(seen_number)
    assert produced["person_ref"]["id_hash"] == hasher.hash(seen_number)  # for the ban check
