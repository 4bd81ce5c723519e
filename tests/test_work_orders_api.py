"""The work-order features on the running stack, through the API only: return review,
extension and the public date, supervision in the unit's list, redo, confidential callers,
the knowledge base and direct answers, caller history, attachments, the merge/link answer,
and a lead department's list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client

from models.timeutil import SHANGHAI
from tests.auth import Tokens
from tests.factories import complaint_payload
from tests.polling import eventually_async, wait_for_case

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


async def submit(http: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    payload = complaint_payload(**overrides)
    del payload["event_id"], payload["occurred_at"]
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def allowed(http: httpx.AsyncClient, case_id: str, headers: dict[str, str]) -> list[str]:
    response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    actions: list[str] = response.json()["allowed_actions"]
    return actions


async def test_return_review_extension_supervision_through_the_api(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    town = tokens.headers("town", "town-lushan")
    office = tokens.headers("leading-office", "leading-office")
    samr = tokens.headers("department", "samr")
    accepted = await submit(http, category="prepayment", town="town-lushan")
    case_id = accepted["case_id"]
    await wait_for_case(http, case_id, handler="town-lushan")
    assert await allowed(http, case_id, town) == ["accept", "return", "notes"]

    # 退单 → 退单审核 (rejected by the hotline centre): the unit keeps it.
    r = await http.post(
        f"/api/v1/cases/{case_id}/return", json={"reason": "不属本镇"}, headers=town
    )
    assert r.status_code == 200, r.text
    assert r.json()["return_pending"]["reviewer"] == "operator"
    case = await wait_for_case(http, case_id, pending="return")
    first_resolve_by = datetime.fromisoformat(case["resolve_by"])
    assert "review-return" in case["allowed_actions"]  # the operator's own view
    queue = (await http.get("/api/v1/cases", params={"pending": "return"})).json()
    assert case_id in [c["id"] for c in queue]  # the hotline centre's review queue
    r = await http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=town)
    assert r.status_code == 409 and "审核" in r.json()["error"]["message"]
    r = await http.post(
        f"/api/v1/cases/{case_id}/review-return",
        json={"approve": True, "reason": "同意"},
        headers=town,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_reviewer"
    r = await http.post(
        f"/api/v1/cases/{case_id}/review-return",
        json={"approve": False, "reason": "经核实属炉山镇辖区"},
    )
    assert r.status_code == 200 and r.json()["handler"] == "town-lushan"

    # 签收, 延期申请 (capped), approved by the lead: the public status shows the new date.
    assert (await http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=town)).is_success
    r = await http.post(
        f"/api/v1/cases/{case_id}/extension",
        json={"working_days": 11, "reason": "需要更多时间"},
        headers=town,
    )
    assert r.status_code == 422 and "10 个工作日" in r.json()["error"]["message"]
    r = await http.post(
        f"/api/v1/cases/{case_id}/extension",
        json={"working_days": 5, "reason": "需调取收费台账"},
        headers=town,
    )
    assert r.status_code == 200, r.text
    assert "extension-decision" in await allowed(http, case_id, samr)
    r = await http.post(
        f"/api/v1/cases/{case_id}/extension-decision",
        json={"approve": True, "reason": "同意延期"},
        headers=samr,
    )
    assert r.status_code == 200, r.text
    case = await wait_for_case(http, case_id, extended=True)
    assert datetime.fromisoformat(case["resolve_by"]) > first_resolve_by
    public = await http.get(
        "/api/v1/public/status", params={"case_id": case_id, "code": accepted["tracking_code"]}
    )
    assert public.json()["extended"] is True
    assert public.json()["resolve_by"] == case["resolve_by"]

    # 督办: in the unit's list rows, counted per unit.
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = await http.post(
        f"/api/v1/cases/{case_id}/supervise",
        json={"comments": "请加快办理", "due_by": due},
        headers=town,
    )
    assert r.status_code == 403 and "领导小组办公室" in r.json()["error"]["message"]
    r = await http.post(
        f"/api/v1/cases/{case_id}/supervise",
        json={"comments": "请加快办理", "due_by": due},
        headers=office,
    )
    assert r.status_code == 200, r.text
    await wait_for_case(http, case_id, supervisions=1)
    rows = (await http.get("/api/v1/cases", headers=town)).json()
    [row] = [c for c in rows if c["id"] == case_id]
    assert row["supervisions"] == 1 and row["supervised_until"] is not None
    today = datetime.now(SHANGHAI).date().isoformat()  # statistics count local days
    stats = (
        await http.get("/api/v1/statistics", params={"start": today, "end": today}, headers=office)
    ).json()
    [lushan] = [u for u in stats["units"] if u["unit"] == "town-lushan"]
    assert lushan["supervised"] >= 1

    # 反馈结果, then 回访不满意 → 重办 by the same unit.
    r = await http.post(
        f"/api/v1/cases/{case_id}/result",
        json={"outcome": "unsubstantiated", "findings": "经核查未发现预收费超期。"},
        headers=town,
    )
    assert r.status_code == 200, r.text
    r = await http.post(
        f"/api/v1/cases/{case_id}/follow-up",
        json={"satisfied": False, "comment": "没有上门核实", "redo_by": "same-unit"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["handler"], r.json()["status"]) == ("town-lushan", "dispatched")


async def test_confidential_caller_hidden_from_units_and_the_caller_history(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    phone = "139 1234 5678"
    first = await submit(
        http,
        category="food-safety",
        confidential=True,
        complainant={"name": "张女士", "phone": phone},
    )
    case_id = first["case_id"]
    await wait_for_case(http, case_id, handler="town-lushan")
    town = tokens.headers("town", "town-lushan")
    r = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=town)
    assert r.status_code == 403 and "保密" in r.json()["error"]["message"]
    other_operator = {"Authorization": f"Bearer {tokens.new('operator')}"}
    r = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=other_operator)
    assert r.status_code == 200 and r.json()["phone"] == phone

    r = await http.get("/api/v1/callers/history", params={"phone": "13912345678"})
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["repeat_caller"] and case_id in [c["id"] for c in history["cases"]]
    assert "重复来电" in history["hint"]
    r = await http.get("/api/v1/callers/history", params={"phone": phone}, headers=town)
    assert r.status_code == 403 and "话务员" in r.json()["error"]["message"]


async def test_knowledge_search_and_a_direct_answer(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    hits = (await http.get("/api/v1/knowledge", params={"q": "预收费"})).json()
    assert hits[0]["id"] == "cc-prepayment"
    assert hits[0]["source"]["document_number"] == "凯府办函〔2021〕54号"
    by_pinyin = (await http.get("/api/v1/knowledge", params={"q": "tijian"})).json()
    assert "cc-health-check" in [h["id"] for h in by_pinyin]

    accepted = await submit(
        http,
        category="consultation",
        institution_name=None,
        description="咨询托育机构能预收几个月费用",
        direct_answer={"knowledge_id": "cc-prepayment", "answer": hits[0]["answer"]},
    )
    assert accepted["direct_answer"] and "直接答复" in accepted["message"]
    case = await wait_for_case(http, accepted["case_id"], status="closed")
    assert case["knowledge_id"] == "cc-prepayment" and case["handler"] is None
    assert case["accept_by"] is None and case["allowed_actions"] == []

    payload = complaint_payload(
        category="food-safety", direct_answer={"knowledge_id": "cc-prepayment", "answer": "不行"}
    )
    r = await http.post("/api/v1/complaints", json=payload)
    assert r.status_code == 422, r.text


async def test_attachments_checked_by_size_and_magic_bytes(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    accepted = await submit(http, category="food-safety", town="town-wanchao")
    case_id = accepted["case_id"]
    await wait_for_case(http, case_id, handler="town-wanchao")
    url = f"/api/v1/cases/{case_id}/attachments"
    r = await http.post(url, files={"file": ("photo.jpg", JPEG, "image/jpeg")})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    r = await http.post(
        url, files={"file": ("report.pdf", PDF, "application/pdf")}, data={"purpose": "result"}
    )
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf"
    r = await http.post(url, files={"file": ("x.jpg", b"MZ\x90\x00not an image", "image/jpeg")})
    assert r.status_code == 415 and "JPEG" in r.json()["error"]["message"]
    r = await http.post(url, files={"file": ("big.jpg", JPEG + b"\x00" * (10 << 20), "image/jpeg")})
    assert r.status_code == 413 and "附件过大" in r.json()["error"]["message"]

    town = tokens.headers("town", "town-wanchao")
    listed = (await http.get(url, headers=town)).json()
    assert {a["sha256"] for a in listed} >= {sha}
    r = await http.get(f"{url}/{sha}", headers=town)
    assert r.status_code == 200 and r.content == JPEG
    r = await http.get(f"{url}/{sha}", headers=tokens.headers("town", "town-lushan"))
    assert r.status_code == 403
    trail = (await http.get(f"/api/v1/cases/{case_id}/history")).json()
    assert any(e["action"] == "attachment.added" and e["details"]["sha256"] == sha for e in trail)


async def test_a_report_after_the_result_opens_a_linked_case_and_says_so(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Issue: a second family's abuse report merged into a case that had already reported its
    result. It opens a new case linked to the old one, and the operator is told."""
    name = f"炉山镇七彩托育园{datetime.now(UTC).timestamp()}"
    first = await submit(http, category="child-abuse", institution_name=name)
    health = tokens.headers("department", "health")
    await wait_for_case(http, first["case_id"], handler="health")
    second = await submit(http, category="child-abuse", institution_name=name)
    assert second["relation"] == "merged" and "并入" in second["message"]
    await wait_for_case(http, second["case_id"], status="merged")
    url = f"/api/v1/cases/{first['case_id']}"
    assert (await http.post(f"{url}/accept", json={}, headers=health)).is_success
    r = await http.post(
        f"{url}/result",
        json={"outcome": "unsubstantiated", "findings": "经核查未发现虐童。"},
        headers=health,
    )
    assert r.status_code == 200, r.text
    third = await submit(http, category="child-abuse", institution_name=name)
    assert third["relation"] == "linked" and third["related_case"] == first["case_id"]
    assert "另立新案" in third["message"]
    case = await wait_for_case(http, third["case_id"], handler="health")
    assert case["status"] == "dispatched" and case["related_to"] == first["case_id"]
    old = (await http.get(url)).json()
    assert third["case_id"] in old["related_cases"]


async def test_a_department_lists_the_cases_of_the_categories_it_leads(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Issue: Market Regulation leads prepayment cases and may read one at the town, but its
    list did not have it."""
    accepted = await submit(http, category="prepayment", town="town-wanchao")
    case_id = accepted["case_id"]
    await wait_for_case(http, case_id, handler="town-wanchao")
    samr = tokens.headers("department", "samr")
    assert (await http.get(f"/api/v1/cases/{case_id}", headers=samr)).status_code == 200

    async def listed() -> bool:
        rows = (await http.get("/api/v1/cases", params={"limit": 500}, headers=samr)).json()
        return case_id in [c["id"] for c in rows]

    assert await eventually_async(listed, within=10)
    edu = tokens.headers("department", "edu")
    rows = (await http.get("/api/v1/cases", params={"limit": 500}, headers=edu)).json()
    assert case_id not in [c["id"] for c in rows]


async def test_cases_are_listed_in_temporal_by_search_attributes(
    http: httpx.AsyncClient, temporal_client: Client
) -> None:
    accepted = await submit(http, category="staffing", town="town-kaitang")
    case_id = accepted["case_id"]
    await wait_for_case(http, case_id, handler="town-kaitang")
    query = f'TuoyuCaseId = "{case_id}" AND TuoyuHandler = "town-kaitang"'

    async def found() -> bool:
        return [w.id async for w in temporal_client.list_workflows(query)] == [f"case-{case_id}"]

    assert await eventually_async(found, within=30)
    described = await temporal_client.get_workflow_handle(f"case-{case_id}").describe()
    summary = await described.static_summary()
    assert summary is not None and case_id in summary and "人员配备" in summary


async def test_follow_up_on_the_scale_with_problem_solved(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    town = tokens.headers("town", "town-lushan")
    case_id = (await submit(http, category="prepayment", town="town-lushan"))["case_id"]
    await wait_for_case(http, case_id, handler="town-lushan")
    assert (await http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=town)).is_success
    result = {"outcome": "unsubstantiated", "findings": "经核查未发现超期预收费用。"}
    r = await http.post(f"/api/v1/cases/{case_id}/result", json=result, headers=town)
    assert r.is_success, r.text

    url = f"/api/v1/cases/{case_id}/follow-up"
    # Neither a rating nor `satisfied`, or the two contradicting: refused in Chinese.
    r = await http.post(url, json={"resolved": True})
    assert r.status_code == 422 and "回访评价" in r.json()["error"]["message"], r.text
    r = await http.post(url, json={"rating": "dissatisfied", "satisfied": True})
    assert r.status_code == 422 and "不一致" in r.json()["error"]["message"], r.text
    r = await http.post(url, json={"rating": "bad"})
    assert r.status_code == 422

    # 基本满意 but not solved: closed, counted satisfied, the two answers kept apart.
    r = await http.post(url, json={"rating": "basically-satisfied", "resolved": False})
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "closed" and state["satisfied"] is True
    assert state["follow_up_rating"] == "basically-satisfied" and state["problem_solved"] is False
    case = await wait_for_case(http, case_id, status="closed")
    assert (case["follow_up_rating"], case["problem_solved"], case["satisfied"]) == (
        "basically-satisfied",
        False,
        True,
    )
    history = (await http.get(f"/api/v1/cases/{case_id}/history")).json()
    followed = next(h for h in history if h["action"] == "case.followed-up")
    assert followed["details"]["rating"] == "basically-satisfied"
    assert followed["details"]["resolved"] is False
