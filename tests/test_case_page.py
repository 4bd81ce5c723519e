"""A case worked through the case page only, by the people who do it, each signed in with a
password: the operator takes the call, the town signs, notes, asks for assistance and
reports the result, the Health Commission decides a rectification and re-inspects, the
operator calls back; on a second case the leading office takes over and hands down, and a
stale page shows the server's refusal. Screenshots of every step: test-output/screenshots/."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.auth import Tokens
from tests.browser import Web
from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack

TOWN = "town-wanshui"


async def take_call(
    web: Web, tokens: Tokens, description: str, town: str = TOWN
) -> tuple[str, str]:
    """The case number and the tracking code the caller is told."""
    page = web.page
    await web.login(tokens.credentials("operator"), "/hotline")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "health-management")
    await page.select_option("#town", town)
    await page.fill("#description", description)
    await page.fill("#caller_name", "赵女士")
    await page.fill("#caller_phone", "137 0000 4444")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = await page.locator("#ticket-case").inner_text()
    return case_id, await page.locator("#ticket-code").inner_text()


async def act(page: Page, action: str, **fields: str) -> None:
    await page.click(f'#action-buttons button[data-action="{action}"]')
    form = page.locator(f'#action-form[data-action="{action}"]')
    await expect(form).to_be_visible()
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await form.locator("#action-submit").click()
    await expect(form).to_be_hidden()


async def shown(page: Page) -> set[str]:
    await expect(page.locator("#actions-card")).to_be_visible()
    names = await page.locator("#action-buttons button").evaluate_all(
        "bs => bs.map(b => b.dataset.action)"
    )
    return set(names)


async def test_a_case_worked_through_the_case_page_by_four_users(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = web.page
    case_id, code = await take_call(web, tokens, "托育机构晨午检记录缺失，孩子发热未隔离。")
    await web.shot("case-01-operator-took-the-call")
    await wait_for_case(http, case_id, status="dispatched", handler=TOWN)

    # The town: only what it may do now.
    await web.login(tokens.credentials("town", TOWN), f"/cases/{case_id}")
    await expect(page.locator("#facts")).to_contain_text("待签收")
    assert await shown(page) == {"accept", "return", "note"}
    await web.shot("case-02-town-before-signing")
    await act(page, "accept", note="已安排网格员核查")
    await expect(page.locator('#timeline li[data-action="case.accepted"]')).to_contain_text(
        "湾水镇人民政府"
    )
    # 延期申请 too, once signed (the work-order backend lists it in allowed_actions).
    assert await shown(page) == {"note", "assist", "result", "extension"}
    await web.shot("case-03-town-signed")

    # Form errors stay beside the form; the caller's contact behind its button (audited).
    await page.click('#action-buttons button[data-action="note"]')
    await page.click("#action-submit")
    await expect(page.locator("#action-error")).to_contain_text("请填写")
    await page.fill('#action-form [name="text"]', "已电话联系机构负责人，明日上门检查。")
    await page.click("#action-submit")
    await expect(page.locator('#timeline li[data-action="case.note"]')).to_be_visible()
    await page.click("#show-contact")
    await expect(page.locator("#contact")).to_contain_text("137 0000 4444")
    await expect(page.locator('#timeline li[data-action="complainant.viewed"]')).to_be_visible()
    await act(page, "assist", unit="samr", reason="请协助核查该机构登记情况")
    await expect(
        page.locator('#timeline li[data-action="case.assistance-requested"]')
    ).to_be_visible()
    await web.shot("case-04-town-note-contact-assistance")
    await act(
        page, "result", outcome="substantiated", findings="晨午检记录缺失属实，已责令当场整改。"
    )
    await expect(page.locator("#facts")).to_contain_text("待回访")
    assert "system:" not in await page.locator("#timeline").inner_text()
    await web.shot("case-05-town-result")

    # The Health Commission leads the category: a rectification, then its re-inspection
    # (the enforcement workflow starts with the substantiated result).
    health = tokens.headers("department", "health")

    async def enforcement_started() -> bool:
        answer = await http.get(f"/api/v1/cases/{case_id}/enforcement", headers=health)
        return answer.status_code == 200

    assert await eventually_async(enforcement_started, 60)
    await web.login(tokens.credentials("department", "health"), f"/cases/{case_id}")
    await expect(page.locator('#action-buttons button[data-action="decide"]')).to_be_visible()
    assert "follow_up" not in await shown(page)
    await act(
        page,
        "decide",
        kind="rectification",
        legal_basis="《托育机构保育指导大纲（试行）》",
        reason="晨午检制度未落实",
        rectify_within_days="5",
    )
    await expect(page.locator('#timeline li[data-action="decision.made"]')).to_be_visible()
    await web.shot("case-06-health-decision")
    await act(page, "reinspect", passed="yes", findings="复查：晨午检记录完整。")
    await expect(page.locator('#timeline li[data-action="decision.reinspected"]')).to_be_visible()
    await web.shot("case-07-health-reinspection")
    await act(
        page,
        "joint_punishment",
        sanction="fine",  # Order 36: a fine is general dishonesty information
        serious="no",
        publicity_months="3",
        legal_basis="国发〔2016〕33号",
        reason="晨午检制度长期未落实",
    )
    await expect(page.locator("#enforcement")).to_contain_text("联合惩戒")
    await expect(page.locator("#enforcement")).to_contain_text("一般失信信息")
    assert "joint_punishment" not in await shown(page)  # once per case
    await web.shot("case-07b-health-joint-punishment")

    # The operator calls back: 基本满意, solved.
    await web.login(tokens.credentials("operator"), f"/cases/{case_id}")
    assert {"follow_up", "close"} <= await shown(page)
    await act(
        page,
        "follow_up",
        rating="basically-satisfied",
        resolved="yes",
        comment="来电人认可处理结果",
    )
    await expect(page.locator("#facts")).to_contain_text("已办结")
    await expect(page.locator('#timeline li[data-action="case.followed-up"]')).to_contain_text(
        "基本满意"
    )
    await web.shot("case-08-operator-follow-up-closed")

    # The caller looks it up (typing the number in lower case): the answer and the unit.
    await page.context.clear_cookies()
    await page.goto("/status")
    await page.fill("#case_id", case_id.lower())
    await page.fill("#code", code.lower())
    await page.click("#lookup button")
    await expect(page.locator("#result-status")).to_contain_text("已办结")
    await expect(page.locator("#result-times")).to_contain_text("晨午检记录缺失属实")
    await expect(page.locator("#result-times")).to_contain_text("湾水镇人民政府")
    await web.shot("case-09-public-status-answer")


async def test_the_leading_office_takes_over_and_hands_down_and_a_stale_page_is_refused(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, browser: object
) -> None:
    page = web.page
    case_id, _ = await take_call(web, tokens, "机构保健人员未持证上岗。")
    await wait_for_case(http, case_id, status="dispatched", handler=TOWN)

    # The town's page, opened before the leading office acts.
    await web.login(tokens.credentials("town", TOWN), f"/cases/{case_id}")
    assert "accept" in await shown(page)
    town_page = page
    other = await page.context.browser.new_context(  # type: ignore[union-attr]
        base_url=page.url.split("/cases/")[0], locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    office = Web(await other.new_page(), web.screenshots)
    try:
        await office.login(
            tokens.credentials("leading-office", "leading-office"), f"/cases/{case_id}"
        )
        assert {"take_over", "hand_down", "note"} <= await shown(office.page)
        assert "accept" not in await shown(office.page)
        await act(office.page, "take_over", reason="涉及多部门，提级办理")
        await expect(office.page.locator("#facts")).to_contain_text("领导小组办公室")
        await office.shot("case-10-office-took-over")
        await act(office.page, "hand_down", unit="street-ximen", reason="属西门街道辖区，交办")
        await expect(
            office.page.locator('#timeline li[data-action="case.handed-down"]')
        ).to_be_visible()
        await office.shot("case-11-office-handed-down")
    finally:
        await other.close()

    # The town's stale page: the server refuses, the page says why in Chinese, with names.
    await town_page.click('#action-buttons button[data-action="accept"]')
    await town_page.click("#action-submit")
    error = town_page.locator("#action-error")
    await expect(error).to_contain_text("只有当前承办单位")
    await expect(error).to_contain_text("西门街道")
    assert "street-ximen" not in await error.inner_text()
    await web.shot("case-12-stale-page-refused")

    # Another town's case: the page says so instead of showing empty cards.
    await web.login(tokens.credentials("town", "town-lushan"), f"/cases/{case_id}")
    await expect(page.locator("#notice")).to_contain_text("无权查看")
    await expect(page.locator("#summary-card")).to_be_hidden()
    await web.shot("case-13-not-yours")
