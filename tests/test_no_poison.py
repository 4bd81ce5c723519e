"""No poison event on the running stack (issue 13, findings 1, 2 and 9b): an event that fails
for good inside Temporal, or one too large for a dead letter, never stops the valid events
behind it on its partition, and every dead letter carries the original message's key."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlmodel import Session

from infra.kafka import KafkaPublisher
from models import topics
from models.camera import Device
from models.notifications import DeadLetter
from tests.factories import case_id_of, complaint_payload, device_id, registry_event
from tests.kafka_reader import TopicReader
from tests.polling import eventually, eventually_async, wait_for_case
from tests.test_camera_alarms import cases_of, institution_with_device
from tests.test_inspections import findings_of, registered_institution, report
from workers.stack import Stack

# In UTC it is in year 10000. The bounded models (models/bounds.py) and the edge's "not more
# than a day ahead" rule now refuse it at the stream, which dead-letters it; before them it
# failed in the activities with OverflowError. Either way the events behind it must go on.
# Failures inside Temporal, parked and dead-lettered, are proven in tests/test_parking.py.
FAR = "9999-12-31T23:59:59-12:00"
BIG = 1_000_000  # bytes: under the broker's message.max.bytes, its dead letter (x4/3) is not


def letters(reader: TopicReader, match: Any) -> list[tuple[bytes | None, DeadLetter]]:
    found = []
    for record in reader.records:
        letter = DeadLetter.model_validate_json(record.value)
        if match(letter):
            found.append((record.key, letter))
    return found


async def dead_letters(
    stack: Stack, match: Any, count: int = 1, within: float = 120
) -> list[tuple[bytes | None, DeadLetter]]:
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:

        def matching(record: Any) -> bool:
            return bool(match(DeadLetter.model_validate_json(record.value)))

        await reader.wait_for(matching, count, within)
        return letters(reader, match)
    finally:
        reader.close()


async def test_a_registry_event_that_fails_in_temporal_does_not_stop_the_next(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    institution = f"INST-{uuid.uuid4().hex[:8]}"
    device = device_id()
    failing = registry_event(
        "institution-registered", institution_id=institution, name="失败的登记",
        town="town-lushan", registrar="civil", occurred_at=FAR,
    )  # fmt: skip
    producer.publish(topics.REGISTRY, institution, failing)
    producer.publish(
        topics.REGISTRY,
        institution,
        registry_event(
            "institution-registered", institution_id=institution, name="炉山镇后来的登记",
            town="town-lushan", registrar="civil",
        ),
    )  # fmt: skip
    producer.publish(
        topics.REGISTRY,
        institution,
        registry_event("device-registered", device_id=device, institution_id=institution),
    )

    def applied() -> bool:
        db.rollback()
        return db.get(Device, device) is not None

    assert await eventually(applied, 90)
    event_id = json.loads(failing)["event_id"]
    # Parked in Temporal (or refused at the edge): dead-lettered once, under its key.
    found = await dead_letters(stack, lambda d: event_id.encode() in d.original)
    assert len(found) == 1 and found[0][0] == institution.encode()


async def test_camera_alarms_behind_a_failing_one_are_all_handled(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    """More than `intake_max_in_flight` (64) alarms behind one that fails for good, all on
    its partition (one key): the last one, from a registered camera, still opens its case."""
    institution, _, camera = await institution_with_device(producer, db)
    key = f"poison-{uuid.uuid4().hex[:6]}"

    def alarm(device: str, when: str | None = None) -> bytes:
        return json.dumps(
            {"event_id": f"alarm-{uuid.uuid4()}",
             "occurred_at": when or datetime.now(UTC).isoformat(),
             "kind": "intrusion", "device_id": device, "alarm_priority": 1}
        ).encode()  # fmt: skip

    producer.publish(topics.CAMERA_ALARMS, key, alarm(device_id(), FAR))
    producer.publish_all(
        topics.CAMERA_ALARMS,
        [(key, alarm(device_id())) for _ in range(stack.settings.intake_max_in_flight + 6)],
    )
    producer.publish(topics.CAMERA_ALARMS, key, alarm(camera))
    assert await eventually(lambda: len(cases_of(db, institution)) == 1, 120)


async def test_an_inspection_behind_a_failing_one_is_recorded(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    town = "town-lushan"
    institution = await registered_institution(producer, db, town)
    failing = report(
        institution, town, {"code": "fire-safety", "note": "失败"},
        event_id=f"insp-{uuid.uuid4()}", occurred_at=FAR,
    )  # fmt: skip
    valid = report(
        institution, town, {"code": "fire-safety", "note": "疏散通道堆放杂物"},
        event_id=f"insp-{uuid.uuid4()}", occurred_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip
    for body in (failing, valid):
        producer.publish(topics.INSPECTIONS, institution, json.dumps(body).encode())

    def recorded() -> bool:
        return any(f.event_id == valid["event_id"] for f in findings_of(db, institution))

    assert await eventually(recorded, 90)


def committed(stack: Stack, topic: str, partition: int) -> int:
    """The stream worker's committed offset (read without joining its group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=stack.settings.kafka_bootstrap,
        group_id=stack.settings.stream_app_id,
        enable_auto_commit=False,
    )
    try:
        return consumer.committed(TopicPartition(topic, partition)) or -1
    finally:
        consumer.close()


async def big_event_is_claim_checked(stack: Stack, topic: str, big: bytes, key: str) -> None:
    producer = KafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap, acks="all", max_request_size=4_000_000
    )
    try:
        sent = producer.send(topic, key=key.encode(), value=big).get(timeout=30)
    finally:
        producer.close()
    [(letter_key, letter)] = await dead_letters(
        stack, lambda d: d.claim_check is not None and d.source.offset == sent.offset
        and d.source.topic == topic and d.source.partition == sent.partition,
    )  # fmt: skip
    assert letter_key == key.encode()
    assert letter.original_base64 == "" and letter.claim_check is not None
    stored = (stack.settings.data_dir / letter.claim_check.location).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == letter.claim_check.sha256
    # Complaints are kept with the caller's contact sealed (infra/vault.py), registry events
    # with identity numbers masked: the rest as it came.
    if topic == topics.COMPLAINTS:
        kept, sent_event = json.loads(stored), json.loads(big)
        assert "complainant" not in kept and kept.pop("complainant_sealed")
        assert kept == {k: v for k, v in sent_event.items() if k != "complainant"}
        assert sent_event["complainant"]["phone"].encode() not in stored
    assert len(letter.model_dump_json()) < 10_000

    async def moved_past() -> bool:
        return committed(stack, topic, sent.partition) > sent.offset

    assert await eventually_async(moved_past, 60)


async def test_a_1mb_complaint_is_claim_checked_and_the_next_becomes_a_case(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    key = f"big-{uuid.uuid4().hex[:6]}"
    payload = complaint_payload(description="大" * 10)
    payload["description"] = "x" * BIG  # far over the model's 5000 characters
    big = json.dumps(payload).encode()
    await big_event_is_claim_checked(stack, topics.COMPLAINTS, big, key)
    valid = complaint_payload()
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    try:
        producer.send(topics.COMPLAINTS, key=key.encode(), value=json.dumps(valid).encode()).get(30)
    finally:
        producer.close()
    await wait_for_case(http, case_id_of(valid), 90)


async def test_a_1mb_registry_event_is_claim_checked(stack: Stack) -> None:
    key = f"INST-{uuid.uuid4().hex[:8]}"
    big = registry_event(
        "institution-registered", institution_id=key, name="x" * BIG, town="town-lushan",
        registrar="civil",
    )  # fmt: skip
    await big_event_is_claim_checked(stack, topics.REGISTRY, big, key)


async def test_a_rejected_stream_event_is_dead_lettered_under_its_key(
    stack: Stack, producer: KafkaPublisher
) -> None:
    key = f"INST-{uuid.uuid4().hex[:8]}"
    marker = uuid.uuid4().hex
    producer.publish(topics.REGISTRY, key, json.dumps({"type": "nonsense", "m": marker}).encode())
    [(letter_key, letter)] = await dead_letters(stack, lambda d: marker.encode() in d.original)
    assert letter_key == key.encode()
    assert base64.b64decode(letter.original_base64)
