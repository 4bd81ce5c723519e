"""A substantiated child-abuse result names the abuser on the case page itself: the handling
unit types the name and identity number into the result form (one per line), and the ban
registry holds the person, banned for life. Before, the form had no place for them: a unit
working in the pages could resolve an abuse case and ban nobody."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import expect

from tests.auth import Tokens
from tests.browser import Web
from tests.factories import complaint_payload
from tests.polling import eventually_async, wait_for_case
from tests.test_case_page import act
from workers.stack import Stack

ABUSER_ID = "522601199001010010"  # a valid check digit (GB 11643)


async def test_the_abuser_is_named_in_the_result_form_and_banned(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(
        event_id=f"abuse-page-{run}",
        category="child-abuse",
        institution_name=f"页面禁业测试托育园{run}",
        description="家长反映保育员掐打孩子，孩子手臂有淤青。",
    )
    response = await http.post("/api/v1/complaints", json=body)
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    case = await wait_for_case(http, case_id, status="dispatched")
    handler = case["handler"]
    role = "town" if handler.startswith(("town-", "street-", "zone-")) else "department"

    page = web.page
    await web.login(tokens.credentials(role, handler), f"/cases/{case_id}")
    await act(page, "accept", note="已立即赴现场核查")
    await expect(page.locator('#timeline li[data-action="case.accepted"]')).to_be_visible()
    await expect(page.locator('#action-buttons button[data-action="result"]')).to_be_visible()
    await act(
        page,
        "result",
        outcome="substantiated",
        findings="经调取监控核实，保育员掐打幼儿属实，已移送公安机关。",
        persons=f"王五 {ABUSER_ID}",
    )
    await expect(page.locator("#facts")).to_contain_text("待回访")
    await web.shot("abuse-result-named")

    office = tokens.headers("leading-office", "leading-office")

    async def banned() -> bool:
        listed = await http.get("/api/v1/bans", headers=office)
        assert listed.status_code == 200, listed.text
        return any(b["case_id"] == case_id and b["name"] == "王五" for b in listed.json())

    assert await eventually_async(banned)
    listed = (await http.get("/api/v1/bans", headers=office)).json()
    (ban,) = [b for b in listed if b["case_id"] == case_id and b["name"] == "王五"]
    assert ABUSER_ID not in str(ban) and ban["person_masked"].endswith("0010")
