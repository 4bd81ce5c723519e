"""The whole abuse scenario on the running stack: registry events, complaint, critical
dispatch, substantiated result, the teacher and the direct manager banned for life, joint
punishment of the institution, the banned teacher applying elsewhere and being rejected with
alerts. Then a search of logs, topics, tables and workflow histories for the identity numbers
in clear text: they may appear only on `tuoyu.registry`, where they arrive."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import MetaData
from sqlalchemy import select as sa_select
from sqlmodel import Session, select
from temporalio.client import Client, ScheduleActionStartWorkflow

from infra.audit_export import verify_jsonl
from infra.kafka import KafkaPublisher
from models import topics
from models.cases import case_id_for
from models.credit import credit_entry_id
from models.staff import Employment, StaffCheck
from tests.auth import Tokens
from tests.factories import ARABIC_INDIC, FULL_WIDTH, identity_number, registry_event, spelled
from tests.kafka_reader import TopicReader
from tests.polling import eventually, eventually_async, wait_for_case
from workers.stack import Stack, child_env
from workflows.registry.starter import YEARLY_RECHECK

VENV_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def everything_stored(stack: Stack, db: Session) -> dict[str, bytes]:
    """Logs, outbound and complaint topics, every table, Temporal's store, as bytes."""
    data = Path(stack.settings.data_dir)
    places = {f"log {p.name}": p.read_bytes() for p in (data / "logs").glob("*")}
    places.update({f"temporal {p.name}": p.read_bytes() for p in (data / "temporal").glob("*")})
    for name in (*topics.OUTBOUND, topics.COMPLAINTS):
        reader = TopicReader(stack.settings.kafka_bootstrap, name)
        try:
            reader.poll()
            reader.poll()
            places[f"topic {name}"] = b"\n".join(r.value for r in reader.records)
        finally:
            reader.close()
    metadata = MetaData()
    metadata.reflect(bind=db.get_bind())
    for table in metadata.sorted_tables:
        rows = db.execute(sa_select(table)).all()
        places[f"table {table.name}"] = "\n".join(str(tuple(r)) for r in rows).encode()
    db.rollback()
    return places


async def test_abuse_scenario_end_to_end_and_no_identity_number_in_clear_text(
    stack: Stack, http: httpx.AsyncClient, producer: KafkaPublisher, db: Session, tokens: Tokens
) -> None:
    health = tokens.headers("department", "health")
    lushan = tokens.headers("town", "town-lushan")
    admin = tokens.headers("admin")
    suffix = uuid.uuid4().hex[:6]
    kindergarten, other = f"KL-{suffix}-A", f"KL-{suffix}-B"
    teacher_id, director_id = identity_number(), identity_number()
    teacher = {"id_number": teacher_id, "name": "张保育员"}
    director = {"id_number": director_id, "name": "李园长"}

    # The registry: two institutions, a director and a teacher reporting to her.
    for raw in [
        registry_event("institution-registered", institution_id=kindergarten,
                       name=f"西门街道小星星托育园{suffix}", town="street-ximen", registrar="samr"),
        registry_event("institution-registered", institution_id=other,
                       name=f"炉山镇阳光托育中心{suffix}", town="town-lushan", registrar="civil"),
        registry_event("staff-hired", institution_id=kindergarten, person=director,
                       role="director"),
        registry_event("staff-hired", institution_id=kindergarten, person=teacher,
                       role="nursery-teacher", manager=director),
    ]:  # fmt: skip
        producer.publish(topics.REGISTRY, kindergarten, raw)

    def employed() -> int:
        db.rollback()
        rows = db.exec(select(Employment).where(Employment.institution_id == kindergarten))
        return len(rows.all())

    assert await eventually(lambda: employed() == 2)

    # A parent calls the hotline: critical, to Health, Public Security and the street at once.
    response = await http.post(
        "/api/v1/complaints",
        json={
            "category": "child-abuse",
            "town": "street-ximen",
            "institution_id": kindergarten,
            "description": "孩子回家后身上多处淤青，称被老师打。",
            "complainant": {"name": "王女士", "phone": "138 0000 0001"},
        },
    )
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    case = await wait_for_case(http, case_id, assigned_units=["health", "psb", "street-ximen"])
    assert case["handler"] == "health" and case["priority"] == "critical"

    # Health accepts and reports the abuse substantiated, naming the teacher.
    for action, body in [
        ("accept", {"note": "已会同公安机关介入"}),
        (
            "result",
            {
                "outcome": "substantiated",
                "findings": "经调取监控并询问，保育员多次殴打幼儿，情况属实。",
                "persons": [teacher],
            },
        ),
    ]:
        answer = await http.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=health)
        assert answer.status_code == 200, answer.text

    # Both banned for life: the teacher, and the director as her direct manager then.
    bans: list[dict[str, Any]] = []

    async def banned() -> bool:
        nonlocal bans
        reply = await http.get("/api/v1/bans", headers=admin)
        bans = [b for b in reply.json() if b["case_id"] == case_id]
        return len(bans) == 2

    assert await eventually_async(banned)
    assert sorted((b["name"], b["role"]) for b in bans) == [
        ("张保育员", "perpetrator"),
        ("李园长", "direct-manager"),
    ]
    assert {b["person_masked"] for b in bans} == {
        f"{teacher_id[:3]}{'*' * 11}{teacher_id[-4:]}",
        f"{director_id[:3]}{'*' * 11}{director_id[-4:]}",
    }

    # Joint punishment of the institution: prior notice, no objection, entry on the platform.
    answer = await http.post(
        f"/api/v1/cases/{case_id}/joint-punishment",
        json={
            "serious": True,
            "publicity_months": 24,
            "legal_basis": "国发〔2016〕33号",
            "reason": "虐童行为经查属实，情节严重",
        },
        headers=health,
    )
    assert answer.status_code == 200, answer.text
    credit = TopicReader(stack.settings.kafka_bootstrap, topics.CREDIT_PLATFORM)
    try:
        [entry] = await credit.wait_for(
            lambda r: json.loads(r.value)["entry_id"] == credit_entry_id(case_id)
        )
    finally:
        credit.close()
    assert json.loads(entry.value)["action"] == "entry"

    # The teacher applies at another institution: refused, with alerts.
    check = await http.post(
        "/api/v1/staff-checks",
        json={"person": teacher, "institution_id": other, "role": "caregiver", "hire": True},
        headers=lushan,
    )
    assert check.status_code == 200, check.text
    assert check.json()["eligible"] is False and check.json()["recorded"] is False
    # ... and through the registry topic too.
    producer.publish(
        topics.REGISTRY,
        other,
        registry_event("staff-hired", institution_id=other, person=teacher, role="caregiver"),
    )

    def rejected_at_other() -> int:
        db.rollback()
        rows = db.exec(select(StaffCheck).where(StaffCheck.institution_id == other))
        return sum(1 for r in rows.all() if r.result == "banned")

    assert await eventually(lambda: rejected_at_other() == 2)
    notes = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        alerts = await notes.wait_for(
            lambda r: (
                json.loads(r.value)["kind"] == "ban-alert"
                and f"炉山镇阳光托育中心{suffix}" in json.loads(r.value)["text"]
            ),
            count=6,
        )
        everything = list(notes.records)
    finally:
        notes.close()
    assert {a.key.decode() for a in alerts} == {"health", "psb", "town-lushan"}

    # A camera at the other institution recognises the teacher: a critical case opens.
    alarm: dict[str, Any] = {
        "event_id": f"cam-{uuid.uuid4()}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "kind": "face-match",
        "device_id": "52260100001320000001",
        "institution_id": other,
        "person": teacher,
    }
    producer.publish(topics.CAMERA_ALARMS, other, json.dumps(alarm, ensure_ascii=False).encode())
    sighting = case_id_for(
        f"camera:{alarm['event_id']}", datetime.fromisoformat(alarm["occurred_at"])
    )
    seen = await wait_for_case(http, sighting, assigned_units=["health", "psb", "town-lushan"])
    assert (seen["category"], seen["priority"], seen["channel"]) == (
        "banned-person",
        "critical",
        "camera",
    )
    assert teacher_id not in seen["description"] and "张保育员" in seen["description"]
    # The same face through the JSON API: hashed at the edge (never in clear on the topic),
    # and the ban still matches (a person not banned opens no case).
    via_api = {**alarm, "event_id": f"cam-{uuid.uuid4()}"}
    psb = tokens.headers("department", "psb")
    assert (await http.post("/api/v1/alarms", json=via_api, headers=psb)).status_code == 202
    again = case_id_for(
        f"camera:{via_api['event_id']}", datetime.fromisoformat(alarm["occurred_at"])
    )
    assert (await wait_for_case(http, again))["category"] == "banned-person"

    # The integrity file of the kindergarten shows it all, in order, to Health.
    file = (await http.get(f"/api/v1/institutions/{kindergarten}/integrity", headers=health)).json()
    kinds = [r["kind"] for r in file]
    assert kinds[0] == "complaint-outcome" and kinds.count("ban") == 2
    assert kinds[-2:] == ["credit-notice", "credit-entry"]
    csv_export = await http.get(
        f"/api/v1/institutions/{kindergarten}/integrity", params={"format": "csv"}, headers=health
    )
    assert "credit-entry" in csv_export.text
    cli = await asyncio.to_thread(
        subprocess.run,
        ["tuoyu", "integrity", kindergarten, "--format", "jsonl"],
        env={**child_env(stack.settings), "PATH": VENV_PATH},
        capture_output=True,
        text=True,
        check=True,
    )
    assert [json.loads(line)["kind"] for line in cli.stdout.splitlines()] == kinds

    # A court overturns the director's part: an authorised, audited correction; never deleted.
    [director_ban] = [b for b in bans if b["role"] == "direct-manager"]
    refused = await http.post(
        f"/api/v1/bans/{director_ban['id']}/correction", json={"reason": "试图删除"}, headers=health
    )
    assert refused.status_code == 403
    corrected = await http.post(
        f"/api/v1/bans/{director_ban['id']}/correction",
        json={"reason": "（2027）黔2601刑再1号判决认定其不负管理责任"},
        headers=admin,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "corrected"
    listed = (await http.get("/api/v1/bans", headers=admin)).json()
    assert {b["status"] for b in listed if b["case_id"] == case_id} == {"active", "corrected"}
    clear = await http.post(
        "/api/v1/staff-checks", json={"person": director, "institution_id": other}, headers=lushan
    )
    assert clear.json()["eligible"] is True

    # No identity number in clear text anywhere past the hashing step.
    places = await asyncio.to_thread(everything_stored, stack, db)
    for secret in (teacher_id, director_id):
        for place, text in places.items():
            assert secret.encode() not in text, f"identity number found in {place}"
    assert everything  # the notifications topic was read


async def test_the_yearly_recheck_is_scheduled(temporal_client: Client) -> None:
    description = await temporal_client.get_schedule_handle(YEARLY_RECHECK).describe()
    spec = description.schedule.spec
    assert spec.time_zone_name == "Asia/Shanghai"
    [calendar] = spec.calendars
    assert (calendar.month[0].start, calendar.day_of_month[0].start, calendar.hour[0].start) == (
        1,
        2,
        2,
    )
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "EmploymentRecheckWorkflow"


def tuoyu(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tuoyu", *args],
        env={**child_env(stack.settings), "PATH": VENV_PATH},
        capture_output=True,
        text=True,
    )


async def test_the_running_stacks_trail_signs_verifies_and_exports(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    posted = await http.post(
        "/api/v1/complaints",
        json={"category": "other", "town": "town-lushan", "description": "审计链测试"},
    )
    await wait_for_case(http, posted.json()["case_id"], handler="town-lushan")
    signed = await asyncio.to_thread(tuoyu, stack, "audit", "checkpoint")
    assert signed.returncode == 0, signed.stderr
    verified = await asyncio.to_thread(tuoyu, stack, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout
    key = (await asyncio.to_thread(tuoyu, stack, "audit", "public-key")).stdout.strip()
    exported = await asyncio.to_thread(tuoyu, stack, "audit", "export", "--format", "jsonl")
    lines = exported.stdout.splitlines()
    assert json.loads(lines[0])["public_keys"] == [key]
    # Records keep arriving while the export runs: it verifies up to where it stopped.
    assert verify_jsonl(lines, {key}).ok


async def test_a_rejected_staff_check_is_dead_lettered_without_the_identity_number(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    valid = identity_number()
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")
    town = tokens.headers("town", "town-lushan")
    # As written, in full-width digits, in Arabic-Indic digits: never in clear on the topic.
    spellings = {
        "赵某": (wrong_check, wrong_check),
        "钱某": (spelled(wrong_check, FULL_WIDTH), wrong_check),
        "孙某": (spelled(valid, ARABIC_INDIC), valid),
    }
    for name, (spelling, _) in spellings.items():
        answer = await http.post(
            "/api/v1/staff-checks",
            json={"person": {"id_number": spelling, "name": name}, "institution_id": "X"},
            headers=town,
        )
        assert answer.status_code == 422 and spelling not in answer.text, answer.text
    letters = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        for name, (spelling, number) in spellings.items():

            def about(record: Any, who: str = name) -> bool:
                return who.encode() in base64.b64decode(json.loads(record.value)["original_base64"])

            found = await letters.wait_for(about)
            original = base64.b64decode(json.loads(found[0].value)["original_base64"])
            text = original.decode()
            assert spelling not in text, text
            ascii_digits = "".join(
                str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
                for c in text
            )
            assert number not in ascii_digits and number[:17] not in ascii_digits, text
            assert "*" * 11 in text
    finally:
        letters.close()
