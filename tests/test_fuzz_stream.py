"""Fuzzed events on every inbound topic of the running stack, interleaved with valid ones: each
bad one reaches the dead-letter topic with its original bytes and the reason, each valid one
is processed, and the agents keep going."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from infra.identity import IdentityHasher, redact
from infra.intake import (
    InvalidEvent,
    parse_camera_alarm,
    parse_complaint,
    parse_inspection,
    parse_registry,
)
from infra.kafka import KafkaPublisher
from models import topics
from models.timeutil import SHANGHAI, as_utc
from tests.factories import (
    alarm_xml,
    case_id_of,
    complaint_payload,
    device_id,
    registry_event,
    sip_message,
)
from tests.kafka_reader import TopicReader
from tests.polling import eventually, eventually_async, wait_for_case
from tests.strategies import dates, hostile_json, hostile_text, json_values, with_field
from tests.test_camera_alarms import (
    cases_of,
    institution_with_device,
    registered,
    udp_exchange,
)
from tests.test_fuzz_parsers import with_element
from workers.stack import Stack

T = TypeVar("T")
HASHER = IdentityHasher(b"k" * 32)  # rejection never depends on the key
PARSERS: dict[str, Callable[[bytes], Any]] = {
    topics.COMPLAINTS: parse_complaint,
    topics.INSPECTIONS: parse_inspection,
    topics.REGISTRY: lambda raw: parse_registry(raw, HASHER),
    topics.CAMERA_ALARMS: lambda raw: parse_camera_alarm(raw, HASHER),
}
EXAMPLES = 80


def mutated(field: str, value: Any) -> bytes:
    return json.dumps(complaint_payload(**{field: value}), ensure_ascii=False).encode()


INSPECTION = {
    "event_id": "i-1",
    "occurred_at": "2026-11-29T10:00:00+08:00",
    "kind": "spot-check",
    "institution_id": "inst-1",
    "town": "town-lushan",
    "inspector_unit": "health",
    "findings": [{"code": "disinfection"}],
}
REGISTRY = {
    "type": "institution-registered",
    "event_id": "r-1",
    "occurred_at": "2026-11-29T10:00:00+08:00",
    "institution_id": "inst-1",
    "name": "某托育园",
    "town": "town-lushan",
    "registrar": "samr",
}
# Far dates, control characters, lone surrogates, huge strings, 10,000-level nesting.
hostile = st.one_of(
    st.builds(with_field, st.just(complaint_payload()), st.sampled_from(["occurred_at",
              "description", "institution_name", "event_id"]), hostile_json),
    st.builds(with_field, st.just(INSPECTION), st.sampled_from(sorted(INSPECTION)), hostile_json),
    st.builds(with_field, st.just(REGISTRY), st.sampled_from(sorted(REGISTRY)), hostile_json),
)  # fmt: skip
candidates = st.one_of(
    hostile,
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(mutated, st.sampled_from(sorted(complaint_payload())), json_values),
    st.builds(
        lambda value: json.dumps(
            {"event_id": "a-1", "occurred_at": "2026-11-29T10:00:00+08:00", "kind": "intrusion",
             "device_id": device_id(), "alarm_priority": value}
        ).encode(),
        json_values,
    ),
)  # fmt: skip


def generated(strategy: st.SearchStrategy[T], n: int) -> list[T]:
    """n values drawn by hypothesis: its generator, not its search (the servers are shared, so
    a failure is reported with the inputs rather than shrunk)."""
    found: list[T] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(raw: T) -> None:
        found.append(raw)

    collect()
    return found


def rejected(topic: str, raw: bytes) -> bool:
    try:
        PARSERS[topic](raw)
    except InvalidEvent:
        return True
    return False


async def test_fuzzed_events_on_every_topic_among_valid_ones(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    run = uuid.uuid4().hex[:8]
    inbound = list(PARSERS)
    bad: dict[str, tuple[str, bytes]] = {}
    for i, raw in enumerate(generated(candidates, EXAMPLES)):
        topic = inbound[i % len(inbound)]
        if rejected(topic, raw):
            bad[f"fz-{run}-{i}"] = (topic, raw)
    assert len(bad) >= EXAMPLES // 2
    complaints = [complaint_payload() for _ in range(6)]
    institutions = {f"fz-{run}-inst{i}": f"模糊测试托育园{run}{i}" for i in range(3)}
    valid: list[tuple[str, str, bytes]] = [
        (topics.COMPLAINTS, f"ok-{run}-{i}", json.dumps(c, ensure_ascii=False).encode())
        for i, c in enumerate(complaints)
    ] + [
        (
            topics.REGISTRY,
            inst,
            registry_event(
                "institution-registered",
                institution_id=inst,
                name=name,
                town="town-wanchao",
                registrar="samr",
            ),
        )
        for inst, name in institutions.items()
    ]
    # One valid event after every few bad ones, on the same topics and partitions.
    queue = [(topic, key, raw) for key, (topic, raw) in bad.items()]
    step = max(1, len(queue) // len(valid))
    for n, event in enumerate(valid):
        queue.insert(n * (step + 1) + step, event)
    for topic, key, raw in queue:
        producer.publish(topic, key, raw)

    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        letters = await reader.wait_for(
            lambda r: (r.key or b"").decode(errors="replace").startswith(f"fz-{run}-"),
            count=len(bad),
        )
    finally:
        reader.close()
    by_key = {r.key.decode(): json.loads(r.value) for r in letters}
    missing = sorted(set(bad) - set(by_key))
    assert set(by_key) == set(bad), [(k, bad[k][0], bad[k][1][:300]) for k in missing[:5]]
    for key, (topic, raw) in bad.items():
        letter = by_key[key]
        # Where people's identity numbers may arrive, they are masked in the letter.
        kept = redact(raw) if topic in (topics.REGISTRY, topics.CAMERA_ALARMS) else raw
        stored = base64.b64decode(letter["original_base64"])
        if topic == topics.COMPLAINTS and stored != raw:  # the caller's contact sealed
            original, dead = json.loads(raw), json.loads(stored)
            assert original.pop("complainant") and dead.pop("complainant_sealed"), key
            assert dead == original, key
        else:
            assert stored == kept, key
        assert letter["source"]["topic"] == topic and letter["reason"], letter

    for c in complaints:
        case = await wait_for_case(http, case_id_of(c), handler="town-lushan")
        assert case["status"] == "dispatched"

    async def registered() -> bool:
        response = await http.get("/api/v1/institutions", params={"q": f"模糊测试托育园{run}"})
        return {i["id"] for i in response.json()} == set(institutions)

    assert await eventually_async(registered)


async def test_hostile_sip_alarms_among_valid_ones(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    """Far alarm times, control characters and oversized descriptions over UDP: each answered
    (400 when refused, never 5xx), and the valid alarms between them are answered 200 OK and
    become the device's case."""
    institution, _, device = await institution_with_device(producer, db)
    await registered(stack, device)
    began = datetime.now(UTC) - timedelta(seconds=5)
    target = (stack.settings.sip_host, stack.settings.sip_port)
    times = generated(dates, 12)
    texts = generated(hostile_text.map(lambda t: t[:6000]), 12)
    plain = alarm_xml(device, encoding="UTF-8")
    for n, (when, text) in enumerate(zip(times, texts, strict=True)):
        for tag, value in (("AlarmTime", when), ("AlarmDescription", text)):
            body = with_element(plain, tag, value).replace(b"<SN>1</SN>", f"<SN>{n}</SN>".encode())
            reply = await asyncio.to_thread(udp_exchange, target, sip_message(body, device))
            status = int(reply.split(b" ", 2)[1])
            assert status in (200, 400), (tag, value[:80], reply[:200])
        valid = alarm_xml(device, sn=1000 + n, when=datetime.now(SHANGHAI).isoformat()[:19])
        reply = await asyncio.to_thread(udp_exchange, target, sip_message(valid, device))
        assert reply.startswith(b"SIP/2.0 200"), reply[:200]
    # The valid alarms are one case (a storm); a hostile alarm with a plausible past time is
    # taken too and may have opened one of its own.
    assert await eventually(
        lambda: any(as_utc(c.received_at) >= began for c in cases_of(db, institution)), 60
    )
