"""The hotline desk page in headless Chromium: an operator takes a call, the caller gets a
case number and a tracking code, and later asks for progress without an account."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import expect
from sqlmodel import Session, select

from infra.kafka import KafkaPublisher
from models.audit import AuditRecord
from tests.auth import Tokens
from tests.browser import Web
from tests.polling import wait_for_case
from tests.test_inspections import registered_institution
from workers.stack import Stack


async def test_a_call_taken_at_the_hotline_page_becomes_the_right_case(
    stack: Stack,
    web: Web,
    http: httpx.AsyncClient,
    tokens: Tokens,
    producer: KafkaPublisher,
    db: Session,
) -> None:
    institution = await registered_institution(producer, db, "street-kaihuai")
    page = web.page
    operator_token = tokens.token("operator")
    await web.login(tokens.credentials("operator"), "/hotline")
    await expect(page.locator("#who-name")).to_contain_text("operator")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "child-abuse")

    # Search the registry by part of the name and pick the institution.
    registered = (await http.get("/api/v1/institutions", params={"q": "开怀街道贝贝托育"})).json()
    chosen = next(i for i in registered if i["id"] == institution)
    await page.fill("#institution", chosen["name"][:6])
    await expect(page.locator("#institutions option").first).to_be_attached()
    await page.fill("#institution", chosen["name"])
    await expect(page.locator("#institution_id")).to_have_value(institution)
    await expect(page.locator("#town")).to_have_value("street-kaihuai")
    marker = f"午睡时老师拖拽孩子，家长来电反映。{uuid.uuid4().hex[:6]}"
    await page.fill("#description", marker)
    await page.fill("#caller_name", "张先生")
    await page.fill("#caller_phone", "135 0000 2222")
    await web.shot("hotline-form")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = await page.locator("#ticket-case").inner_text()
    code = await page.locator("#ticket-code").inner_text()
    await web.shot("hotline-ticket")

    # Critical: Health leads, Public Security and the street alongside.
    case = await wait_for_case(
        http, case_id, status="dispatched", assigned_units=["health", "psb", "street-kaihuai"]
    )
    assert (case["category"], case["priority"], case["handler"]) == (
        "child-abuse",
        "critical",
        "health",
    )
    assert case["institution_id"] == institution and case["description"] == marker
    assert "张先生" not in str(case) and "2222" not in str(case)  # contact kept apart

    # The caller's contact: the operator who took the call and the handling units, audited.
    contact = await http.get(
        f"/api/v1/cases/{case_id}/complainant",
        headers={"Authorization": f"Bearer {operator_token}"},
    )
    assert contact.status_code == 200 and contact.json()["phone"] == "135 0000 2222"
    health = await http.get(
        f"/api/v1/cases/{case_id}/complainant", headers=tokens.headers("department", "health")
    )
    assert health.status_code == 200
    others = {
        "another operator": {"Authorization": f"Bearer {tokens.new('operator')}"},
        "auditor": tokens.headers("auditor"),
        "leading office": tokens.headers("leading-office", "leading-office"),
        "unrelated department": tokens.headers("department", "samr"),
    }
    for who, headers in others.items():
        refused = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=headers)
        assert refused.status_code == 403, (who, refused.text)
        assert "2222" not in refused.text
    db.rollback()
    views = db.exec(
        select(AuditRecord)
        .where(AuditRecord.case_id == case_id)
        .where(AuditRecord.action == "complainant.viewed")
    ).all()
    assert sorted(v.actor_role for v in views) == ["department", "operator"]

    # The caller asks for progress without an account.
    await page.context.clear_cookies()
    await page.goto("/status")
    await expect(page.locator("nav")).to_have_count(0)  # no staff menu for the public
    await expect(page.locator("#password, #token")).to_have_count(0)
    await page.fill("#case_id", case_id)
    await page.fill("#code", code)
    await page.click("#lookup button")
    await expect(page.locator("#result-status")).to_contain_text("已受理")
    await web.shot("public-status")
    await page.fill("#code", "WRONGCODE")
    await page.click("#lookup button")
    await expect(page.locator("#toast")).to_contain_text("查询码不正确")
