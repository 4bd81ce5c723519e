"""A complaint walks the whole ladder on the running stack (high priority on seconds, from
tests/data/deadlines-fast.toml): intake, the town misses acceptance, reminder, escalation to
the city, the city misses the grace, the leading group office's notice and interview, then
acceptance, result, follow-up and closure; all of it over HTTP, Kafka and Temporal."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlmodel import Session

from infra.audit import verify_session
from infra.signing import pinned_keys
from models import topics
from tests.auth import Tokens
from tests.factories import complaint_payload
from tests.kafka_reader import TopicReader
from tests.polling import wait_for_case
from workers.stack import Stack, child_env

VENV_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


async def test_complaint_walks_town_city_leading_office_result_follow_up_and_close(
    stack: Stack, http: httpx.AsyncClient, db: Session, tokens: Tokens
) -> None:
    operator = tokens.headers("operator")
    payload = complaint_payload(category="safety-fire", town="town-lushan")
    del payload["event_id"], payload["occurred_at"]
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]

    case = await wait_for_case(http, case_id)
    assert (case["handler"], case["level"], case["priority"]) == ("town-lushan", "town", "high")

    live = (await http.get(f"/api/v1/cases/{case_id}/state")).json()
    assert live["handler"] == "town-lushan" and live["deadlines"]["accept_by"] is not None
    assert [h["action"] for h in live["history"]][:1] == ["case.dispatched"]

    # Nobody at the town accepts: reminder after 4 s, escalation to the city after 8 s.
    case = await wait_for_case(http, case_id, level="city")
    assert case["handler"] == "health" and "town-lushan" in case["assigned_units"]
    refused = await http.post(
        f"/api/v1/cases/{case_id}/accept", json={}, headers=tokens.headers("town", "town-lushan")
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "not_handler"
    assert "承办单位" in refused.json()["error"]["message"]

    # The city does not act within the 8 s grace either: the leading group office steps in.
    case = await wait_for_case(http, case_id, level="leading-office")
    records = (await http.get("/api/v1/units/health/records")).json()
    assert [r["kind"] for r in records if r["case_id"] == case_id] == ["notice-interview"]
    records = (await http.get("/api/v1/units/town-lushan/records")).json()
    assert [r["kind"] for r in records if r["case_id"] == case_id] == ["escalated"]

    # The city department finally acts; the operator calls the complainant back.
    health = tokens.headers("department", "health")
    for action, body, headers in [
        ("accept", {"note": "已安排执法大队现场检查"}, health),
        ("notes", {"text": "现场发现安全出口堵塞"}, health),
        (
            "result",
            {"outcome": "substantiated", "findings": "安全出口堵塞，已责令立即整改"},
            health,
        ),
        ("follow-up", {"satisfied": True, "comment": "家长满意"}, operator),
    ]:
        answer = await http.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=headers)
        assert answer.status_code == 200, (action, answer.text)
    assert answer.json()["status"] == "closed"
    case = await wait_for_case(http, case_id, status="closed")
    assert case["satisfied"] is True and case["outcome"] == "substantiated"

    # Kafka carried the dispatch, the reminder, the escalation and the notices.
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        found = await reader.wait_for(lambda r: json.loads(r.value)["case_id"] == case_id, count=7)
    finally:
        reader.close()
    sent = sorted({(json.loads(r.value)["kind"], r.key.decode()) for r in found})
    assert sent == [
        ("dispatch", "town-lushan"),
        ("escalation", "health"),
        ("notice-interview", "health"),
        ("notice-interview", "leading-office"),
        ("reminder", "health"),
        ("reminder", "town-lushan"),
        ("withdrawn", "town-lushan"),
    ]

    history = (await http.get(f"/api/v1/cases/{case_id}/history")).json()
    actions = [h["action"] for h in history if h["action"].startswith("case.")]
    assert actions == [
        "case.opened",
        "case.dispatched",
        "case.reminded",
        "case.escalated",
        "case.reminded",  # the city department missed acceptance too
        "case.notice-interview",
        "case.accepted",
        "case.note",
        "case.resolved",
        "case.followed-up",
        "case.closed",
    ]
    assert {h["actor_unit"] for h in history if h["action"] == "case.accepted"} == {"health"}
    assert verify_session(db, pinned_keys(stack.settings)).ok

    # The figures reflect it: the town accepted nothing in time, the city closed late.
    office = tokens.headers("leading-office", "leading-office")
    stats = (
        await http.get("/api/v1/statistics", params={"unit": "town-lushan"}, headers=office)
    ).json()
    [town] = stats["units"]
    assert town["on_time_acceptance"]["total"] >= 1 and town["escalations"] >= 1
    cli = await asyncio.to_thread(
        subprocess.run,
        ["tuoyu", "stats", "--json", "--unit", "health"],
        env={**child_env(stack.settings), "PATH": VENV_PATH},
        capture_output=True,
        text=True,
        check=True,
    )
    [health_stats] = json.loads(cli.stdout)["units"]
    assert health_stats["notice_interviews"] >= 1 and health_stats["satisfaction"]["hits"] >= 1


async def test_actions_need_a_valid_token_and_reads_are_scoped(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    unknown_case = "/api/v1/cases/TY20260101-0000000000"
    missing = await http.post(f"{unknown_case}/accept", json={}, headers={"Authorization": ""})
    assert missing.status_code == 401 and "令牌" in missing.json()["error"]["message"]
    bogus = await http.get("/api/v1/units", headers={"Authorization": "Bearer ty_not-a-token"})
    assert bogus.status_code == 401 and bogus.json()["error"]["code"] == "invalid_token"

    health = tokens.headers("department", "health")
    # An action on a case nobody can see is a 404, before anything else is looked at.
    gone = await http.post(f"{unknown_case}/accept", json={}, headers=health)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "case_not_found"

    # A case in Lushan: Lushan and its lead see it; another town does not, nor in its inbox.
    posted = await http.post(
        "/api/v1/complaints",
        json={"category": "staffing", "town": "town-lushan", "description": "保育员无证上岗"},
    )
    case_id = posted.json()["case_id"]
    await wait_for_case(http, case_id, handler="town-lushan")
    for headers, status in [
        (tokens.headers("town", "town-lushan"), 200),
        (health, 200),  # staffing is led by the Health Commission
        (tokens.headers("auditor"), 200),
        (tokens.headers("town", "town-wanchao"), 403),
        (tokens.headers("department", "samr"), 403),
    ]:
        for path in ("", "/state", "/history"):
            answer = await http.get(f"/api/v1/cases/{case_id}{path}", headers=headers)
            assert answer.status_code == status, (path, headers, answer.text)
    wanchao = tokens.headers("town", "town-wanchao")
    inbox = (await http.get("/api/v1/cases", headers=wanchao)).json()
    assert case_id not in {c["id"] for c in inbox}
    other_inbox = await http.get("/api/v1/cases", params={"unit": "town-lushan"}, headers=wanchao)
    assert other_inbox.status_code == 403
    lushan_inbox = await http.get("/api/v1/cases", headers=tokens.headers("town", "town-lushan"))
    assert case_id in {c["id"] for c in lushan_inbox.json()}
    # The ban registry is for Health, Public Security, the office, auditors and admins.
    assert (await http.get("/api/v1/bans")).status_code == 403  # operator
    assert (await http.get("/api/v1/bans", headers=wanchao)).status_code == 403
    assert (await http.get("/api/v1/bans", headers=health)).status_code == 200
    # Auditors read but do not act.
    auditor = tokens.headers("auditor")
    refused = await http.post(
        "/api/v1/complaints",
        json={"category": "other", "town": "town-lushan", "description": "x"},
        headers=auditor,
    )
    assert refused.status_code == 403
    # The audit trail: auditors query it, towns may not.
    trail = await http.get("/api/v1/audit", params={"case_id": case_id}, headers=auditor)
    assert trail.status_code == 200
    assert trail.json()["records"][0]["action"] == "case.opened"
    assert (await http.get("/api/v1/audit", headers=wanchao)).status_code == 403
