"""Bounded, clean input where it enters (issue 13, findings 1, 4, 5, 6 and 9c), on the running
stack: far dates and NUL characters are refused at the edge (HTTP 422 in Chinese, SIP 400,
dead letters from topics) and never stall what comes after them; an event id reused with
other content is refused (409), and a refused body retried is dead-lettered once."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
from sqlmodel import Session
from typer.testing import CliRunner

from infra.kafka import KafkaPublisher
from models import topics
from tests.auth import Tokens
from tests.factories import alarm_xml, complaint_payload, registry_event, sip_message
from tests.kafka_reader import TopicReader
from tests.polling import eventually_async, wait_for_case
from tests.test_camera_alarms import institution_with_device, udp_exchange
from tests.test_camera_alarms import registered as sip_registered
from workers.cli import app as cli
from workers.stack import Stack

FAR_FUTURE = "9999-12-31T23:59:59-12:00"
FAR_PAST = "0001-01-01T00:00:00+00:00"


def letters_with(reader: TopicReader, needle: bytes) -> list[dict[str, Any]]:
    reader.poll()
    found = []
    for record in reader.records:
        letter = json.loads(record.value)
        if needle in base64.b64decode(letter["original_base64"]):
            found.append({**letter, "key": (record.key or b"").decode()})
    return found


async def dead_letters(stack: Stack, needle: bytes, count: int = 1) -> list[dict[str, Any]]:
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:

        async def arrived() -> bool:
            return len(await asyncio.to_thread(letters_with, reader, needle)) >= count

        assert await eventually_async(arrived), needle
        while True:  # read to the end: a repeat would come after the first on its partition
            seen = len(reader.records)
            await asyncio.to_thread(reader.poll)
            if len(reader.records) == seen:
                return letters_with(reader, needle)
    finally:
        reader.close()


async def registered(http: httpx.AsyncClient, prefix: str, ids: set[str]) -> bool:
    response = await http.get("/api/v1/institutions", params={"q": prefix})
    return {i["id"] for i in response.json()} == ids


async def test_a_far_future_registry_event_is_dead_lettered_and_its_key_goes_on(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    """Finding 1: 9999-12-31T23:59:59-12:00 overflowed in an activity retried for ever, and
    every registry event after it waited."""
    run = uuid.uuid4().hex[:8]
    key = f"edge-reg-{run}"
    bad = registry_event(
        "institution-registered",
        institution_id=f"{key}-bad",
        name=f"远未来托育园{run}",
        town="town-wanchao",
        registrar="samr",
        occurred_at=FAR_FUTURE,
    )
    producer.publish(topics.REGISTRY, key, bad)
    good = {f"{key}-{i}": f"边界测试托育园{run}{i}" for i in range(2)}
    for inst, name in good.items():
        producer.publish(
            topics.REGISTRY,
            key,
            registry_event(
                "institution-registered",
                institution_id=inst,
                name=name,
                town="town-wanchao",
                registrar="samr",
            ),
        )
    (letter,) = await dead_letters(stack, f"{key}-bad".encode())
    assert letter["key"] == key and "occurred_at" in letter["reason"], letter
    assert base64.b64decode(letter["original_base64"]) == bad
    assert await eventually_async(lambda: registered(http, f"边界测试托育园{run}", set(good)))


async def test_a_far_future_sip_alarm_time_is_answered_400_and_dead_lettered(
    stack: Stack, producer: KafkaPublisher, db: Session
) -> None:
    """Finding 1: the same date as <AlarmTime> was answered 200 OK; a day ahead too."""
    _, _, device = await institution_with_device(producer, db)
    await sip_registered(stack, device)
    target = (stack.settings.sip_host, stack.settings.sip_port)
    for when in ("9999-12-31T23:59:59-12:00", "2099-01-01T00:00:00"):
        datagram = sip_message(alarm_xml(device, when=when), device)
        reply = await asyncio.to_thread(udp_exchange, target, datagram)
        assert reply.startswith(b"SIP/2.0 400"), reply[:200]
        assert b"AlarmTime" in reply.split(b"\r\n")[0] or b"occurred_at" in reply[:300]
        letters = await dead_letters(stack, when.encode())
        assert letters[-1]["source"]["channel"].startswith("sip:")
        assert base64.b64decode(letters[-1]["original_base64"]) == datagram


async def test_a_far_future_inspection_is_refused_on_the_topic_and_the_api(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    run = uuid.uuid4().hex[:8]
    report: dict[str, Any] = {
        "kind": "spot-check",
        "institution_id": f"edge-insp-{run}",
        "town": "town-lushan",
        "inspector_unit": "health",
        "findings": [{"code": "disinfection", "severity": "serious"}],
    }
    raw = json.dumps({**report, "event_id": f"edge-insp-{run}", "occurred_at": FAR_FUTURE})
    producer.publish(topics.INSPECTIONS, report["institution_id"], raw.encode())
    (letter,) = await dead_letters(stack, f"edge-insp-{run}".encode())
    assert letter["source"]["topic"] == topics.INSPECTIONS and "occurred_at" in letter["reason"]

    response = await http.post(
        "/api/v1/inspections",
        json={**report, "occurred_at": FAR_FUTURE},
        headers=tokens.headers("department", "health"),
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "发生时间（occurred_at）" in error["message"] and "范围" in error["message"]


async def test_nul_in_a_complaint_or_a_note_is_refused_in_chinese(
    stack: Stack, producer: KafkaPublisher, http: httpx.AsyncClient
) -> None:
    """Finding 4: a NUL was answered 202 and the case vanished on PostgreSQL; a note with one
    froze the case."""
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(event_id=f"edge-nul-{run}", description="a \u0000 b")
    del body["occurred_at"]
    response = await http.post("/api/v1/complaints", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "问题描述（description）" in error["message"] and "控制字符" in error["message"]
    assert error["details"][0]["type"] == "control_character"

    # Nothing was produced: a complaint after it is on the topic, the refused one is not.
    marker = complaint_payload(event_id=f"edge-ok-{run}")
    assert (await http.post("/api/v1/complaints", json=marker)).status_code == 202
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.COMPLAINTS)
    try:
        seen = await reader.wait_for(lambda r: r.key == f"edge-ok-{run}".encode())
        keys = {(r.key or b"").decode() for r in reader.records}
    finally:
        reader.close()
    assert seen and f"edge-nul-{run}" not in keys

    case_id = (await http.post("/api/v1/complaints", json=complaint_payload())).json()["case_id"]
    await wait_for_case(http, case_id)
    response = await http.post(f"/api/v1/cases/{case_id}/notes", json={"text": "备注\u0000内容"})
    assert response.status_code == 422, response.text
    assert "备注内容（text）" in response.json()["error"]["message"]

    raw = json.dumps(complaint_payload(event_id=f"edge-nul-topic-{run}", description="a\x00b"))
    producer.publish(topics.COMPLAINTS, f"edge-nul-topic-{run}", raw.encode())
    (letter,) = await dead_letters(stack, f"edge-nul-topic-{run}".encode())
    assert "description" in letter["reason"] and letter["key"] == f"edge-nul-topic-{run}"


async def test_far_dates_from_clients_are_4xx_never_500(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Finding 6."""
    for when in (FAR_PAST, FAR_FUTURE, "2026-11-29T10:00:00+23:00"):
        response = await http.post("/api/v1/complaints", json=complaint_payload(occurred_at=when))
        assert response.status_code == 422, (when, response.text)
        assert "发生时间" in response.json()["error"]["message"]
    for params in ({"start": "0001-01-01"}, {"end": "9999-12-31"}):
        response = await http.get("/api/v1/statistics", params=params)
        assert response.status_code == 422, response.text
        assert "日期" in response.json()["error"]["message"]
    auditor = tokens.headers("auditor")
    for params in ({"since": "9999-12-31"}, {"until": "0001-01-01T00:00:00"}):
        response = await http.get("/api/v1/audit", params=params, headers=auditor)
        assert response.status_code == 422, response.text
    async with httpx.AsyncClient(base_url=str(http.base_url)) as anonymous:
        for name in ("start_date", "end_date"):
            response = await anonymous.get(
                "/open311/v2/requests.json", params={name: "9999-12-31T23:59:59-12:00"}
            )
            assert response.status_code == 400, response.text
            (error,) = response.json()
            assert error["code"] == 400 and name in error["description"]
        response = await anonymous.get(
            "/open311/v2/requests.json", params={"start_date": "0001-01-01T00:00:00Z"}
        )
        assert response.status_code == 400, response.text


def test_tuoyu_stats_with_a_far_date_is_a_usage_error() -> None:
    for args in (["stats", "--from", "0001-01-01"], ["audit", "query", "--since", "9999-12-31"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert "2000-01-01" in result.output and "Traceback" not in result.output


async def test_an_event_id_reused_with_other_content_is_refused_with_409(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Finding 5: operator B, reusing operator A's event id, got A's case number and code."""
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(event_id=f"edge-reuse-{run}")
    del body["occurred_at"]
    operator_a = {"Authorization": f"Bearer {tokens.new('operator')}"}
    operator_b = {"Authorization": f"Bearer {tokens.new('operator')}"}
    first = await http.post("/api/v1/complaints", json=body, headers=operator_a)
    assert first.status_code == 202, first.text
    again = await http.post("/api/v1/complaints", json=body, headers=operator_a)
    assert again.status_code == 202 and again.json() == first.json()  # a retry: same answer
    accepted = first.json()
    for other, headers in (
        ({**body, "description": "另一位话务员记录的另一件事。"}, operator_b),
        (body, operator_b),  # the same words from another caller are not their complaint
    ):
        refused = await http.post("/api/v1/complaints", json=other, headers=headers)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "event_id_reused" and "事件编号" in error["message"]
        assert accepted["case_id"] not in refused.text
        assert accepted["tracking_code"] not in refused.text
    letters = await dead_letters(stack, f"edge-reuse-{run}".encode(), count=2)
    assert [letter["reason"] for letter in letters] == [
        "event_id reused with different content"
    ] * 2


async def test_a_refused_body_retried_is_dead_lettered_once(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """Finding 9c: each retry of a refused complaint was another dead letter."""
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(town=f"nowhere-{run}")
    for _ in range(3):
        response = await http.post("/api/v1/complaints", json=body)
        assert response.status_code == 422, response.text
    marker = complaint_payload(town=f"marker-{run}")
    assert (await http.post("/api/v1/complaints", json=marker)).status_code == 422
    await dead_letters(stack, f"marker-{run}".encode())  # what came before it is on the topic
    assert len(await dead_letters(stack, f"nowhere-{run}".encode())) == 1


async def test_concurrent_submissions_of_one_event_id_meet_on_the_key(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """The key and the produce are one transaction: of six identical submissions at once one
    is produced and all get its answer; of four different ones at once one is taken."""
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(event_id=f"edge-race-{run}")
    answers = await asyncio.gather(*(http.post("/api/v1/complaints", json=body) for _ in range(6)))
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.COMPLAINTS)
    try:
        await reader.wait_for(lambda r: r.key == f"edge-race-{run}".encode())
        while True:  # to the end of the topic
            seen = len(reader.records)
            await asyncio.to_thread(reader.poll)
            if len(reader.records) == seen:
                break
        produced = [r for r in reader.records if r.key == f"edge-race-{run}".encode()]
    finally:
        reader.close()
    assert len(produced) == 1

    others = [
        complaint_payload(event_id=f"edge-race2-{run}", description=f"第 {i} 件事。")
        for i in range(4)
    ]
    answers = await asyncio.gather(*(http.post("/api/v1/complaints", json=o) for o in others))
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409], [a.text for a in answers]
