"""Access that holds on every route: the object is checked before anything is done with it,
with real cases and institutions of one town and users of another."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from infra.db import make_engine
from models.credit import credit_entry_id
from models.institutions import Registrar
from models.integrity import IntegrityKind, IntegrityRecord
from tests.auth import Tokens
from tests.factories import complaint_payload, identity_number
from tests.polling import eventually, wait_for_case
from tests.test_identity import register
from workers.stack import Stack

FINDINGS = "经调取监控，保育员王某多次推搡幼儿，情况属实。"


@pytest.fixture(scope="module")
def writer(stack: Stack) -> Iterator[Engine]:
    engine = make_engine(stack.settings.resolved_database_url)
    yield engine
    engine.dispose()


async def lushan_case(http: httpx.AsyncClient) -> str:
    response = await http.post("/api/v1/complaints", json=complaint_payload(town="town-lushan"))
    assert response.status_code == 202, response.text
    case_id: str = response.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched")
    return case_id


def file_with_findings(engine: Engine, institution_id: str, case_id: str) -> None:
    now = datetime.now(UTC)
    rows = [
        (IntegrityKind.COMPLAINT_OUTCOME, f"投诉（虐童）经核查属实：{FINDINGS}"),
        (IntegrityKind.BAN, "保育员 王某某（522***********1234）终身禁入"),
        (IntegrityKind.DECISION, "市卫生健康局 作出罚款决定：未按规定开展晨午检"),
        (IntegrityKind.CREDIT_ENTRY, '=HYPERLINK("http://x","纳入失信名单")'),
    ]
    with Session(engine) as session:
        for i, (kind, summary) in enumerate(rows):
            session.add(
                IntegrityRecord(
                    key=f"test:{institution_id}:{i}",
                    institution_key=f"id:{institution_id}",
                    institution_name="测试托育园",
                    kind=kind,
                    case_id=case_id,
                    summary=summary,
                    occurred_at=now,
                )
            )
        session.commit()


async def test_credit_steps_need_a_case_the_caller_may_see(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    case_id = await lushan_case(http)
    wanchao = tokens.headers("town", "town-wanchao")
    read = await http.get(f"/api/v1/credit/{credit_entry_id(case_id)}", headers=wanchao)
    assert read.status_code == 403
    for step, body in [
        ("objection", {"reason": "异议"}),
        ("objection-review", {"upheld": True, "reason": "复核"}),
        ("acknowledge", {"note": "已落实"}),
        ("repair", {"reason": "修复"}),
        ("repair-review", {"upheld": True, "reason": "复核"}),
        ("commitment", {"commitment": "本机构承诺所提交材料真实有效。"}),
        ("lifting-acknowledge", {"note": "已解除"}),
    ]:
        response = await http.post(f"/api/v1/credit/{credit_entry_id(case_id)}/{step}", json=body,
                                   headers=wanchao)  # fmt: skip
        assert response.status_code == 403, (step, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    for action in ("decisions", "reinspections", "joint-punishment"):
        response = await http.post(f"/api/v1/cases/{case_id}/{action}", json={}, headers=wanchao)
        assert response.status_code == 403, (action, response.text)


async def test_staff_checks_only_by_the_registrar_the_town_and_health(
    http: httpx.AsyncClient, tokens: Tokens, writer: Engine
) -> None:
    kindergarten = register(writer, "town-lushan", Registrar.CIVIL)
    person = {"id_number": identity_number(), "name": "赵保育员"}
    body = {"person": person, "institution_id": kindergarten, "role": "caregiver", "hire": True}
    expected = {
        ("town", "town-wanchao"): 403,
        ("department", "samr"): 403,  # not this institution's registrar
        ("department", "edu"): 403,
        ("operator", None): 403,
        ("leading-office", "leading-office"): 403,
        ("auditor", None): 403,
        ("department", "civil"): 200,  # its registrar
        ("town", "town-lushan"): 200,  # its town
        ("department", "health"): 200,
    }
    for (role, unit), status in expected.items():
        attempt = {**body, "event_id": f"hire-{uuid.uuid4()}"}
        response = await http.post(
            "/api/v1/staff-checks", json=attempt, headers=tokens.headers(role, unit)
        )
        assert response.status_code == status, (role, unit, response.text)
    # A check without an institution: the towns, the registrars and Health.
    check = {"person": person}
    for role, unit in [("town", "town-wanchao"), ("department", "samr")]:
        response = await http.post("/api/v1/staff-checks", json=check,
                                   headers=tokens.headers(role, unit))  # fmt: skip
        assert response.status_code == 200, (role, unit, response.text)


async def test_integrity_files_name_persons_only_for_health_the_office_auditors_admins(
    http: httpx.AsyncClient, tokens: Tokens, writer: Engine
) -> None:
    case_id = await lushan_case(http)
    kindergarten = register(writer, "town-lushan", Registrar.SAMR)
    file_with_findings(writer, kindergarten, case_id)
    urls = [
        (f"/api/v1/institutions/{kindergarten}/integrity", {}),
        (f"/api/v1/institutions/{kindergarten}/integrity", {"format": "csv"}),
        (f"/api/v1/institutions/{kindergarten}/integrity", {"format": "jsonl"}),
        ("/api/v1/integrity", {"key": f"id:{kindergarten}"}),
        ("/api/v1/integrity", {"key": f"id:{kindergarten}", "format": "csv"}),
    ]
    for role, unit in [("department", "health"), ("leading-office", "leading-office"),
                       ("auditor", None), ("admin", None)]:  # fmt: skip
        for url, params in urls:
            full = await http.get(url, params=params, headers=tokens.headers(role, unit))
            assert full.status_code == 200, (role, full.text)
            assert FINDINGS in full.text and "王某某" in full.text, (role, url, params)
    for role, unit in [("town", "town-lushan"), ("department", "samr"), ("operator", None)]:
        for url, params in urls:
            public = await http.get(url, params=params, headers=tokens.headers(role, unit))
            assert public.status_code == 200, (role, public.text)
            assert "罚款决定" in public.text and "纳入失信名单" in public.text, (role, url)
            assert FINDINGS not in public.text and "王某某" not in public.text, (role, url)
            assert case_id not in public.text, (role, url)
    wanchao = tokens.headers("town", "town-wanchao")
    for url, params in urls:
        foreign = await http.get(url, params=params, headers=wanchao)
        assert foreign.status_code == 403, (url, params, foreign.text)
        assert FINDINGS not in foreign.text
    # The CSV export is spreadsheet-safe: a formula-like cell is quoted as text (OWASP).
    health = tokens.headers("department", "health")
    exported = await http.get(urls[1][0], params={"format": "csv"}, headers=health)
    cells = [c for row in csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))) for c in row]
    assert '\'=HYPERLINK("http://x","纳入失信名单")' in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


async def test_statistics_of_a_town_only_for_that_town(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    await lushan_case(http)
    wanchao = tokens.headers("town", "town-wanchao")
    refused = await http.get("/api/v1/statistics", params={"unit": "town-lushan"}, headers=wanchao)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    own = await http.get("/api/v1/statistics", headers=wanchao)
    assert own.status_code == 200
    assert set(own.json()["by_town"]) <= {"town-wanchao"}
    assert {u["unit"] for u in own.json()["units"]} <= {"town-wanchao"}
    timeline = await http.get("/api/v1/statistics/timeline", headers=wanchao)
    assert set(timeline.json()["by_town"]) <= {"town-wanchao"}
    samr = tokens.headers("department", "samr")
    other_unit = await http.get("/api/v1/statistics", params={"unit": "health"}, headers=samr)
    assert other_unit.status_code == 403
    for role, unit in [("department", "health"), ("leading-office", "leading-office"),
                       ("auditor", None), ("admin", None)]:  # fmt: skip
        everything = await http.get(
            "/api/v1/statistics", params={"unit": "town-lushan"}, headers=tokens.headers(role, unit)
        )
        assert everything.status_code == 200
        assert "town-lushan" in everything.json()["by_town"], role
        timeline = await http.get("/api/v1/statistics/timeline", headers=tokens.headers(role, unit))
        assert "town-lushan" in timeline.json()["by_town"], role


async def test_the_channel_is_set_by_the_server(http: httpx.AsyncClient) -> None:
    marker = f"渠道测试{uuid.uuid4().hex[:8]}"
    for channel in ("open311", "camera", "inspection"):
        payload = complaint_payload(channel=channel, description=marker)
        refused = await http.post("/api/v1/complaints", json=payload)
        assert refused.status_code == 422, (channel, refused.text)
        assert refused.json()["error"]["code"] == "channel_not_allowed"
    listed = await http.get("/open311/v2/requests.json")
    assert marker not in listed.text
    taken = await http.post("/api/v1/complaints", json=complaint_payload(channel="visit"))
    assert taken.status_code == 202


async def test_no_tracking_code_or_api_key_in_the_access_log(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    response = await http.post("/api/v1/complaints", json=complaint_payload())
    case_id, code = response.json()["case_id"], response.json()["tracking_code"]
    await http.get("/api/v1/public/status", params={"case_id": case_id, "code": code})
    secret_key = f"ty_{uuid.uuid4().hex}"
    await http.get("/open311/v2/requests.json", params={"api_key": secret_key, "x": case_id})
    log = stack.settings.data_dir / "logs" / "api.log"

    def logged() -> bool:
        text = log.read_text("utf-8", errors="replace")
        return text.count(case_id) >= 2

    assert await eventually(logged)
    text = log.read_text("utf-8", errors="replace")
    assert code not in text and secret_key not in text
    assert f"case_id={case_id}&code=***" in text
