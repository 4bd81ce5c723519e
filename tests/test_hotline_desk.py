"""The hotline desk's faults, in headless Chromium: the next call starts from an empty form,
errors are Chinese and stay beside their fields, long text is not cut silently, a full
institution name is linked to the registry, search finds words in any order and pinyin
initials, and a reload keeps the draft (never the caller's name or phone) and the ticket."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect
from sqlmodel import Session

from infra.kafka import KafkaPublisher
from tests.auth import Tokens
from tests.browser import Web
from tests.polling import wait_for_case
from tests.test_inspections import registered_institution
from workers.stack import Stack


async def test_the_next_call_starts_from_an_empty_form(
    stack: Stack,
    web: Web,
    http: httpx.AsyncClient,
    tokens: Tokens,
    producer: KafkaPublisher,
    db: Session,
) -> None:
    institution = await registered_institution(producer, db, "town-lushan")
    name = next(
        i["name"]
        for i in (await http.get("/api/v1/institutions", params={"q": "贝贝托育"})).json()
        if i["id"] == institution
    )
    page = web.page
    await web.login(tokens.credentials("operator"), "/hotline")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "safety-fire")
    # Picked from the list as the operator types.
    await page.fill("#institution", name[:6])
    await expect(page.locator(f'#institutions option[value="{name}"]')).to_be_attached()
    await page.fill("#institution", name)
    await expect(page.locator("#institution_id")).to_have_value(institution)
    await expect(page.locator("#town")).to_have_value("town-lushan")
    await page.fill("#description", "消防通道堆放杂物，家长匿名来电。")
    await page.check("#anonymous")
    await expect(page.locator("#caller_name")).to_be_disabled()
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    await web.shot("desk-1-anonymous-call")

    await page.click("#another")
    await expect(page.locator("#institution_id")).to_have_value("")
    await expect(page.locator("#caller_name")).to_be_enabled()
    await expect(page.locator("#caller_phone")).to_be_enabled()
    await page.select_option("#category", "consultation")
    await page.select_option("#town", "street-ximen")
    await page.fill("#description", "咨询西门街道普惠托位的申请条件。")
    await page.fill("#caller_name", "李女士")
    await page.fill("#caller_phone", "138 0000 1111")
    await web.shot("desk-1-next-call")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = await page.locator("#ticket-case").inner_text()
    case = await wait_for_case(http, case_id)
    assert case["town"] == "street-ximen"
    assert case["institution_id"] is None, case


async def test_form_errors_are_chinese_beside_the_fields_and_stay(
    stack: Stack, web: Web, tokens: Tokens
) -> None:
    page = web.page
    await page.clock.install()
    await web.login(tokens.credentials("operator"), "/hotline")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.click("#submit")
    category = page.locator('label[data-field="category"]')
    await expect(category).to_have_class("invalid")
    await expect(category.locator(".field-error")).to_have_text("请选择投诉类别。")
    await expect(page.locator('label[data-field="town"] .field-error')).to_be_visible()
    await page.clock.run_for(10_000)  # the old message vanished after 6 s
    await expect(category.locator(".field-error")).to_be_visible()
    await web.shot("desk-3-errors-beside-fields")

    # A value the page cannot check itself: the API's English detail becomes a Chinese
    # message beside the field it belongs to.
    await page.evaluate(
        "() => { const s = document.getElementById('category');"
        " s.append(new Option('x', 'no-such-category')); s.value = 'no-such-category'; }"
    )
    await page.select_option("#town", "street-ximen")
    await page.fill("#description", "测试描述内容")
    await page.click("#submit")
    await expect(category.locator(".field-error")).to_have_text("请从列表中选择。")
    assert "Input should" not in await page.locator("main").inner_text()

    # Over 5,000 characters: counted, refused with the count, never cut.
    await page.select_option("#category", "other")
    long_text = "很" * 5001
    await page.fill("#description", long_text)
    await expect(page.locator("#description-counter")).to_have_class("counter over")
    await expect(page.locator('label[data-field="description"] .field-error')).to_contain_text(
        "5000"
    )
    assert len(await page.locator("#description").input_value()) == 5001
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_hidden()
    await web.shot("desk-3-over-the-limit")


async def test_search_in_any_word_order_and_by_pinyin_initials(
    stack: Stack,
    web: Web,
    http: httpx.AsyncClient,
    tokens: Tokens,
    producer: KafkaPublisher,
    db: Session,
) -> None:
    institution = await registered_institution(producer, db, "street-kaihuai")
    for q in ("托育 开怀", "贝贝 街道", "khjdbbty", "KHJD"):
        found = (await http.get("/api/v1/institutions", params={"q": q, "limit": 100})).json()
        assert institution in [i["id"] for i in found], q
    name = next(i["name"] for i in found if i["id"] == institution)
    page = web.page
    await web.login(tokens.credentials("operator"), "/hotline")
    await page.fill("#institution", "khjdbbty")
    await expect(page.locator("#institutions option").first).to_be_attached()
    # A full name pasted at once, never searched for: linked to the registry exactly.
    await page.fill("#institution", "")
    await page.reload()
    await page.fill("#institution", name)
    await page.locator("#institution").blur()
    await expect(page.locator("#institution_id")).to_have_value(institution)
    await expect(page.locator("#town")).to_have_value("street-kaihuai")


async def test_a_reload_keeps_the_draft_and_the_ticket_but_not_the_caller(
    stack: Stack, web: Web, tokens: Tokens
) -> None:
    page = web.page
    await web.login(tokens.credentials("operator"), "/hotline")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "other")
    await page.select_option("#town", "street-ximen")
    await page.fill("#description", "草稿：来电反映托育机构收费问题。")
    await page.fill("#caller_name", "王先生")
    await page.fill("#caller_phone", "139 0000 3333")
    await page.reload()
    await expect(page.locator("#description")).to_have_value("草稿：来电反映托育机构收费问题。")
    await expect(page.locator("#category")).to_have_value("other")
    await expect(page.locator("#caller_name")).to_have_value("")
    stored = await page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert "王先生" not in stored and "3333" not in stored
    await page.fill("#caller_phone", "139 0000 3333")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = await page.locator("#ticket-case").inner_text()
    await page.reload()
    await expect(page.locator("#ticket")).to_be_visible()
    await expect(page.locator("#ticket-case")).to_have_text(case_id)
    stored = await page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert "3333" not in stored
    await web.shot("desk-3-ticket-after-reload")


async def take(page: Page, name: str, description: str) -> tuple[str, str]:
    """An abuse call about the institution `name` (typed, not in the registry) at the desk:
    the case number and what the confirmation says about other cases."""
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "child-abuse")
    await page.fill("#institution", name)
    await page.select_option("#town", "town-lushan")
    await page.fill("#description", description)
    await page.fill("#caller_name", "孙女士")
    await page.fill("#caller_phone", "136 0000 7777")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = await page.locator("#ticket-case").inner_text()
    relation = page.locator("#ticket-relation")
    said = await relation.inner_text() if await relation.is_visible() else ""
    await page.click("#another")
    return case_id, said


async def test_a_second_report_joins_only_an_open_case_and_the_confirmation_says_so(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Issue: a second family's abuse report was merged into a case that had already
    reported its result, and the operator's confirmation said nothing. It joins an open case
    (the confirmation says so); once the result is in it opens a new case linked to it."""
    page = web.page
    name = f"炉山镇彩虹托育园{uuid.uuid4().hex[:6]}"
    await web.login(tokens.credentials("operator"), "/hotline")
    first, said = await take(page, name, "家长反映孩子身上有掐痕。")
    assert said == ""
    await wait_for_case(http, first, handler="health")
    second, said = await take(page, name, "另一位家长反映孩子被老师推搡。")
    assert "并入" in said and first in said, said
    await web.shot("desk-2-merged-into-the-open-case")
    await wait_for_case(http, second, status="merged")

    health = tokens.headers("department", "health")
    url = f"/api/v1/cases/{first}"
    assert (await http.post(f"{url}/accept", json={}, headers=health)).is_success
    result = {"outcome": "unsubstantiated", "findings": "经调取监控未发现虐童行为。"}
    assert (await http.post(f"{url}/result", json=result, headers=health)).is_success

    third, said = await take(page, name, "第三位家长反映孩子午睡时被捂嘴。")
    assert "另立新案" in said and first in said, said
    await web.shot("desk-2-linked-new-case")
    case = await wait_for_case(http, third, handler="health")
    assert case["status"] == "dispatched" and case["related_to"] == first
