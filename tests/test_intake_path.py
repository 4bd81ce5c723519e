"""The whole path on the real servers: HTTP or Kafka in, case, audit and dispatch out."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
from sqlmodel import Session, col, func, select

from infra.audit import verify_session
from infra.kafka import KafkaPublisher
from infra.signing import pinned_keys
from models import topics
from models.audit import AuditRecord
from models.cases import Case
from models.notifications import NotificationRecord
from tests.factories import case_id_of, complaint_payload
from tests.kafka_reader import TopicReader
from tests.polling import eventually, wait_for_case
from workers.stack import Stack


async def test_complaint_posted_to_api_becomes_case_with_audit_and_dispatch(
    stack: Stack, http: httpx.AsyncClient, db: Session
) -> None:
    payload = complaint_payload(category="child-abuse", town="street-ximen")
    del payload["event_id"], payload["occurred_at"]
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    accepted = response.json()
    case_id = accepted["case_id"]
    assert case_id in accepted["message"]

    # The case row comes first, its dispatch step right after: wait for both.
    case = await wait_for_case(http, case_id, assigned_units=["health", "psb", "street-ximen"])
    assert case["status"] == "dispatched"
    assert case["priority"] == "critical"
    # Critical: the street office, the Health Commission and Public Security at once.
    assert case["assigned_units"] == ["health", "psb", "street-ximen"]

    reader = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        found = await reader.wait_for(lambda r: json.loads(r.value)["case_id"] == case_id, count=3)
    finally:
        reader.close()
    assert sorted(r.key.decode() for r in found) == ["health", "psb", "street-ximen"]
    first = json.loads(found[0].value)
    assert first["kind"] == "dispatch" and "紧急" in first["title"] and case_id in first["text"]

    # Each dispatch is published first, then recorded: wait for the records.
    def actions() -> list[str]:
        db.rollback()  # a fresh snapshot: end the read transaction
        return sorted(
            db.exec(select(AuditRecord.action).where(AuditRecord.case_id == case_id)).all()
        )

    expected = ["case.dispatched", "case.opened"] + ["notification.sent"] * 3
    assert await eventually(lambda: actions() == expected), actions()
    assert verify_session(db, pinned_keys(stack.settings)).ok


async def test_invalid_messages_go_to_dead_letter_and_the_agent_keeps_going(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    bad_inputs = {
        "not-json": b"\xff\xfe not json at all",
        "wrong-type": json.dumps(complaint_payload(anonymous="perhaps")).encode(),
        "unknown-town": json.dumps(complaint_payload(town="town-atlantis")).encode(),
        "missing-field": json.dumps({"event_id": "x"}).encode(),
    }
    for key, raw in bad_inputs.items():
        producer.publish(topics.COMPLAINTS, f"dl-{key}", raw)
    good = complaint_payload()
    producer.publish(topics.COMPLAINTS, "dl-good", json.dumps(good).encode())

    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        letters = await reader.wait_for(
            lambda r: (r.key or b"").startswith(b"dl-"), count=len(bad_inputs)
        )
    finally:
        reader.close()
    by_key = {r.key.decode(): json.loads(r.value) for r in letters}
    assert set(by_key) == {f"dl-{k}" for k in bad_inputs}
    for key, raw in bad_inputs.items():
        letter = by_key[f"dl-{key}"]
        kept = base64.b64decode(letter["original_base64"])
        if b"complainant" in raw:  # the caller's contact sealed, the rest as it was sent
            original, dead = json.loads(raw), json.loads(kept)
            assert original.pop("complainant") and dead.pop("complainant_sealed")["ciphertext"]
            assert dead == original and b"138 0000" not in kept
        else:
            assert kept == raw
        assert letter["source"]["topic"] == topics.COMPLAINTS
        assert letter["source"]["offset"] is not None and letter["reason"]
    assert "unknown town" in by_key["dl-unknown-town"]["reason"]
    assert "anonymous" in by_key["dl-wrong-type"]["reason"]

    case_id = case_id_of(good)
    case = await wait_for_case(http, case_id, assigned_units=["town-lushan"])
    assert case["handler"] == "town-lushan"


async def test_the_same_event_twice_gives_one_case_and_one_dispatch(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient, db: Session
) -> None:
    payload = complaint_payload(category="staffing", town="town-zhouxi")
    raw = json.dumps(payload).encode()
    producer.publish(topics.COMPLAINTS, payload["event_id"], raw)
    producer.publish(topics.COMPLAINTS, payload["event_id"], raw)
    case_id = case_id_of(payload)
    await wait_for_case(http, case_id)
    # A third copy after the case exists must not change anything either.
    producer.publish(topics.COMPLAINTS, payload["event_id"], raw)
    marker = complaint_payload()
    producer.publish(topics.COMPLAINTS, marker["event_id"], json.dumps(marker).encode())
    await wait_for_case(http, case_id_of(marker))

    assert await eventually(lambda: _notified(db, case_id))
    db.rollback()  # a fresh snapshot: end the read transaction
    assert (
        db.exec(
            select(func.count())
            .select_from(Case)
            .where(Case.source_event_id == payload["event_id"])
        ).one()
        == 1
    )
    notes = db.exec(select(NotificationRecord).where(NotificationRecord.case_id == case_id)).all()
    assert [n.recipient for n in notes] == ["town-zhouxi"]
    opened = db.exec(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.case_id == case_id, col(AuditRecord.action) == "case.opened")
    ).one()
    assert opened == 1


async def test_api_rejects_bad_input_with_chinese_errors(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/complaints", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_request" and "请求" in body["message"]

    response = await http.post("/api/v1/complaints", json=complaint_payload(town="nowhere"))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "town"

    response = await http.post("/api/v1/complaints", json=complaint_payload(category="aliens"))
    assert response.status_code == 422
    assert any(d["field"].endswith("category") for d in response.json()["error"]["details"])

    response = await http.get("/api/v1/cases/TY20990101-0000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "case_not_found"


async def test_units_are_loaded_from_the_data_file(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/units")
    assert response.status_code == 200
    codes = {u["code"]: u for u in response.json()}
    assert codes["health"]["name"] == "凯里市卫生健康局"
    assert codes["zone-lubi"]["kind"] == "zone"
    assert codes["leading-office"]["kind"] == "office"


def _notified(db: Session, case_id: str) -> bool:
    db.rollback()  # a fresh snapshot: end the read transaction
    return (
        db.exec(select(NotificationRecord).where(NotificationRecord.case_id == case_id)).first()
        is not None
    )


async def test_rejected_http_submissions_are_dead_lettered_with_their_bytes(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    raw = b'{"category": "aliens", "marker": "http-dead-letter-test"}'
    response = await http.post(
        "/api/v1/complaints", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        found = await reader.wait_for(
            lambda r: (
                b"http-dead-letter-test" in base64.b64decode(json.loads(r.value)["original_base64"])
            )
        )
    finally:
        reader.close()
    assert found, "the rejected body is not on the dead-letter topic"
    letter = json.loads(found[0].value)
    assert letter["source"]["channel"] == "http POST /api/v1/complaints"
    assert base64.b64decode(letter["original_base64"]) == raw
    assert "category" in letter["reason"]


async def test_oversize_bodies_are_refused_before_they_are_read(http: httpx.AsyncClient) -> None:
    huge = complaint_payload(description="很" * 200_000)  # ~600 KB of UTF-8
    declared = await http.post("/api/v1/complaints", json=huge)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "body_too_large"
    assert "过大" in declared.json()["error"]["message"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 10_000

    streamed = await http.post(
        "/api/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (await http.get("/healthz")).status_code == 200  # and the API keeps going
