"""Inspection findings on the running stack: serious findings open (or join) cases, minor
ones become rectification items notified to the town; the topic path and bad input."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import Session, select

from infra.kafka import KafkaPublisher
from models import topics
from models.inspections import FindingStatus, InspectionFinding
from tests.auth import Tokens
from tests.factories import case_id_of, complaint_payload
from tests.kafka_reader import TopicReader
from tests.polling import eventually, wait_for_case
from tests.test_camera_alarms import registry_event
from workers.stack import Stack


async def registered_institution(producer: KafkaPublisher, db: Session, town: str) -> str:
    from models.institutions import Institution

    institution = f"INST-{uuid.uuid4().hex[:8]}"
    producer.publish(
        topics.REGISTRY,
        institution,
        registry_event(
            "institution-registered",
            institution_id=institution,
            name=f"开怀街道贝贝托育{uuid.uuid4().hex[:4]}",
            town=town,
            registrar="civil",
        ),
    )

    def registered() -> bool:
        db.rollback()
        return db.get(Institution, institution) is not None

    assert await eventually(registered, 60)
    return institution


def report(institution: str, town: str, *findings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "spot-check",
        "institution_id": institution,
        "town": town,
        "inspector_unit": "health",
        "findings": list(findings),
        **extra,
    }


def findings_of(db: Session, institution: str) -> list[InspectionFinding]:
    db.rollback()
    return list(
        db.exec(
            select(InspectionFinding).where(InspectionFinding.institution_id == institution)
        ).all()
    )


async def test_serious_findings_open_cases_and_minor_ones_become_rectification_items(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher, db: Session
) -> None:
    town = "street-kaihuai"
    institution = await registered_institution(producer, db, town)
    health = tokens.headers("department", "health")
    body = report(
        institution,
        town,
        {"code": "fire-safety", "note": "疏散通道堆放杂物"},
        {"code": "disinfection", "note": "消毒记录缺失两周"},
        {"code": "daily-health-check"},
        {"code": "prepaid-fees", "note": "预收三个月保育费"},
        {"code": "staffing", "severity": "serious", "note": "保育员无证上岗"},
    )
    response = await http.post("/api/v1/inspections", json=body, headers=health)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["serious"], accepted["minor"]) == (3, 2)
    assert len(accepted["case_ids"]) == 3
    for case_id in accepted["case_ids"]:
        case = await wait_for_case(http, case_id, status="dispatched")
        assert case["channel"] == "inspection" and case["institution_id"] == institution
    cases = {
        (await http.get(f"/api/v1/cases/{c}")).json()["category"] for c in accepted["case_ids"]
    }
    assert cases == {"safety-fire", "prepayment", "staffing"}

    assert await eventually(lambda: len(findings_of(db, institution)) == 5, 60)
    rows: dict[str, InspectionFinding] = {f.code: f for f in findings_of(db, institution)}
    assert rows["disinfection"].status == FindingStatus.OPEN
    assert rows["disinfection"].due_at is not None and rows["fire-safety"].due_at is None
    assert rows["fire-safety"].case_id in accepted["case_ids"]
    assert rows["staffing"].severity == "serious"  # the inspector's judgement wins

    reader = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        found = await reader.wait_for(
            lambda r: (
                json.loads(r.value)["event_id"]
                == f"inspection:{accepted['event_id']}:rectification"
            )
        )
    finally:
        reader.close()
    notice = json.loads(found[0].value)
    assert notice["kind"] == "rectification" and notice["recipient"] == town
    assert "消毒" in notice["text"] and "晨午检" in notice["text"] and "整改" in notice["title"]

    # Rectification items as the town sees them; another town sees none of them.
    mine = await http.get(
        "/api/v1/findings",
        params={"institution_id": institution, "status": "open"},
        headers=tokens.headers("town", town),
    )
    assert mine.status_code == 200 and len(mine.json()) == 2
    other = await http.get(
        "/api/v1/findings",
        params={"institution_id": institution},
        headers=tokens.headers("town", "town-wanchao"),
    )
    assert other.status_code == 200 and other.json() == []


async def test_a_serious_finding_joins_the_open_case_about_the_same_concern(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher, db: Session
) -> None:
    institution = await registered_institution(producer, db, "town-lushan")
    call = complaint_payload(category="food-safety", town="town-lushan", institution_id=institution)
    producer.publish(topics.COMPLAINTS, call["event_id"], json.dumps(call).encode())
    await wait_for_case(http, case_id_of(call), status="dispatched")
    # Straight onto the topic this time, as an inspection system would.
    event = {
        **report(institution, "town-lushan", {"code": "food-safety", "note": "留样不足"}),
        "inspector_unit": "samr",
        "event_id": f"insp-{uuid.uuid4()}",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    producer.publish(topics.INSPECTIONS, institution, json.dumps(event).encode())
    assert await eventually(lambda: len(findings_of(db, institution)) == 1, 60)
    finding = findings_of(db, institution)[0]
    assert finding.case_id is not None
    merged = await wait_for_case(http, finding.case_id, status="merged")
    assert merged["merged_into"] == case_id_of(call)


async def test_bad_inspection_reports_are_refused_or_dead_lettered(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher, db: Session
) -> None:
    health = tokens.headers("department", "health")
    good = report("INST-X", "town-lushan", {"code": "disinfection"})
    for body, status in [
        ({**good, "findings": [{"code": "no-such-rule"}]}, 422),
        ({**good, "findings": []}, 422),
        ({**good, "town": "atlantis"}, 422),
        ({**good, "inspector_unit": "nobody"}, 403),
        ({**good, "kind": "vibes"}, 422),
        ({**good, "findings": [{"code": "disinfection", "severity": "apocalyptic"}]}, 422),
    ]:
        response = await http.post("/api/v1/inspections", json=body, headers=health)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    response = await http.post("/api/v1/inspections", json=good, headers=tokens.headers("auditor"))
    assert response.status_code == 403
    response = await http.post(
        "/api/v1/inspections",
        content=b'{"kind": "spot-check", "findings": [',
        headers={**health, "content-type": "application/json"},
    )
    assert response.status_code == 422

    marker = f"bad-inspection-{uuid.uuid4()}"
    bad = [
        b"\xff\xfe not json",
        json.dumps({"event_id": marker, "kind": "spot-check"}).encode(),
        json.dumps(
            {
                **good,
                "event_id": marker,
                "occurred_at": datetime.now(UTC).isoformat(),
                "town": "atlantis",
            }
        ).encode(),
    ]
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        for raw in bad:
            producer.publish(topics.INSPECTIONS, marker, raw)
        letters = await reader.wait_for(lambda r: r.key == marker.encode(), count=3)
    finally:
        reader.close()
    assert len(letters) >= 3
    reasons = [json.loads(r.value)["reason"] for r in letters]
    assert any("unknown town" in r for r in reasons)
    assert any("invalid inspection report" in r for r in reasons)
