"""One complaint walked through every 12345 work-order step in the pages only, by four people
each signed in with a password: the operator takes the call at the desk; the town returns it
(退单); the hotline centre approves and re-dispatches it (退单审核, 改派) to the lead
department; the department signs (签收), asks for more time (延期申请) and reports its result
with a photo (反馈办理结果); the leading office approves the extension (延期审批); the
follow-up call is dissatisfied with the unit's handling (回访 不满意) and the operator sends it
back to the same unit (重办); the leading office supervises the redo (督办); the second result
is followed up satisfied and the case is closed (办结).

Screenshots: $TUOYU_SCREENSHOT_DIR/walk/ (test-output/screenshots/walk/ by default)."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from struct import pack
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from tests.auth import Tokens
from tests.browser import Web
from tests.polling import wait_for_case
from tests.test_case_page import act, shown
from workers.stack import Stack

TOWN = "town-wanshui"
TOWN_NAME = "湾水镇人民政府"
HEALTH_NAME = "凯里市卫生健康局"
BEIJING = ZoneInfo("Asia/Shanghai")


def png(width: int = 8, height: int = 8) -> bytes:
    """A small real PNG (a grey square): the server checks the first bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def facts(page: Page) -> dict[str, str]:
    """The case card's facts as the page shows them: label -> text."""
    pairs: list[list[str]] = await page.locator("#facts").evaluate(
        "dl => [...dl.querySelectorAll('dt')].map(dt => [dt.textContent, "
        "dt.nextElementSibling.textContent])"
    )
    return dict((k, v) for k, v in pairs)


async def status_is(page: Page, text: str) -> None:
    await expect(page.locator("#facts dt:text-is('状态') + dd")).to_have_text(text)


def shown_time(text: str) -> datetime:
    """A time as the pages show it (Beijing time, zh-CN: "2026/12/4 17:00:00")."""
    return datetime.strptime(text, "%Y/%m/%d %H:%M:%S")


def entry(page: Page, action: str) -> Locator:
    return page.locator(f'#timeline li[data-action="{action}"]')


async def test_one_complaint_through_every_work_order_step_in_the_pages(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, browser: Browser
) -> None:
    page = web.page
    web.screenshots = web.screenshots / "walk"
    operator = tokens.new_credentials("operator")
    town = tokens.new_credentials("town", TOWN)
    health = tokens.new_credentials("department", "health")
    office = tokens.new_credentials("leading-office", "leading-office")

    # 1. The hotline desk takes the call.
    await web.login(operator, "/hotline")
    await expect(page.locator("#category option")).not_to_have_count(1)
    await page.select_option("#category", "health-management")
    await page.select_option("#town", TOWN)
    await page.fill("#description", "托育机构保健人员未持证上岗，孩子发热未及时隔离。")
    await page.fill("#caller_name", "钱女士")
    await page.fill("#caller_phone", "139 0000 5555")
    await page.click("#submit")
    await expect(page.locator("#ticket")).to_be_visible()
    case_id = (await page.locator("#ticket-case").inner_text()).strip()
    code = (await page.locator("#ticket-code").inner_text()).strip()
    await web.shot("01-hotline-call")
    # The workflow dispatches it (asynchronously: Kafka, then Temporal).
    await wait_for_case(http, case_id, status="dispatched", handler=TOWN)

    # 2. The town returns it: not its duty (退单 with a reason, to the hotline for review).
    await web.login(town, f"/cases/{case_id}")
    await status_is(page, "待签收")
    assert {"accept", "return"} <= await shown(page)
    due_at_dispatch = (await facts(page))["办结时限"]
    assert due_at_dispatch not in ("", "—")
    await act(page, "return", reason="该机构保健人员资质属市卫生健康局审查职责，非本镇职责。")
    await expect(entry(page, "case.return-requested")).to_contain_text("退单申请")
    await expect(entry(page, "case.return-requested")).to_contain_text(TOWN_NAME)
    await expect(entry(page, "case.return-requested")).to_contain_text(town[0])
    await expect(page.locator("#facts")).to_contain_text("退单待审核")
    assert await shown(page) <= {"note"}  # nothing more until the review
    await web.shot("02-town-returned")

    # 3. The hotline centre reviews the return and re-dispatches (改派) to the lead.
    await web.login(operator, f"/cases/{case_id}")
    assert "review_return" in await shown(page)
    await act(page, "review_return", approve="yes", reason="同意退单，改派市卫生健康局办理。")
    await expect(entry(page, "case.returned")).to_contain_text("退回改派")
    await expect(entry(page, "case.returned")).to_contain_text(f"{TOWN_NAME} → {HEALTH_NAME}")
    await expect(entry(page, "case.returned")).to_contain_text(operator[0])
    await status_is(page, "待签收")
    after_return = await facts(page)
    assert after_return["承办单位"] == HEALTH_NAME
    # The clock runs from the first dispatch: bouncing the case never resets it.
    assert after_return["办结时限"] == due_at_dispatch
    await web.shot("03-hotline-redispatched")

    # 4. The Health Commission signs (签收).
    await web.login(health, f"/cases/{case_id}")
    assert "accept" in await shown(page)
    await act(page, "accept", note="已安排执法大队核查。")
    await status_is(page, "办理中")
    await expect(entry(page, "case.accepted")).to_contain_text(HEALTH_NAME)
    await expect(entry(page, "case.accepted")).to_contain_text(health[0])
    await web.shot("04-health-signed")

    # 5. ... and asks for more time (延期申请).
    await act(page, "extension", working_days="3", reason="需调取该机构近三个月保健人员排班记录。")
    await expect(page.locator("#facts")).to_contain_text("延期待审批")
    await expect(entry(page, "case.extension-requested")).to_contain_text(HEALTH_NAME)
    assert "extension" not in await shown(page)
    await web.shot("05-health-asked-extension")

    # 6. The leading office approves it (the lead department does not approve its own).
    await web.login(office, f"/cases/{case_id}")
    assert "extension_decision" in await shown(page)
    await act(page, "extension_decision", approve="yes", reason="同意延期 3 个工作日。")
    await expect(entry(page, "case.extension-approved")).to_contain_text("领导小组办公室")
    await expect(page.locator("#facts")).not_to_contain_text("延期待审批")
    extended = (await facts(page))["办结时限"]
    assert shown_time(extended) > shown_time(due_at_dispatch)
    await web.shot("06-office-approved-extension")
    # The caller's status page (no account) shows the new date.
    caller = await browser.new_context(
        base_url=page.url.split("/cases/")[0], locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    try:
        public = Web(await caller.new_page(), web.screenshots)
        await public.page.goto("/status")
        await public.page.fill("#case_id", case_id)
        await public.page.fill("#code", code)
        await public.page.click("#lookup button")
        await expect(public.page.locator("#result-times")).to_contain_text(
            extended + "（已批准延期）"
        )
        await public.shot("06b-caller-sees-the-new-date")
    finally:
        await caller.close()

    # 7. The department reports its result with a photo (反馈办理结果).
    await web.login(health, f"/cases/{case_id}")
    await expect(page.locator("#upload")).to_be_visible()
    await page.select_option("#upload-purpose", "result")
    await page.set_input_files(
        "#upload-file", {"name": "现场照片.png", "mimeType": "image/png", "buffer": png()}
    )
    await page.click("#upload button[type=submit]")
    await expect(page.locator("#attachments")).to_contain_text("现场照片.png")
    await expect(page.locator("#attachments")).to_contain_text("办理结果")
    await expect(entry(page, "attachment.added")).to_contain_text("上传附件（办理结果）")
    await act(
        page,
        "result",
        outcome="partly-substantiated",
        findings="一名保健人员证书过期，已责令停岗并限期补证；发热患儿已按规定隔离。",
    )
    await status_is(page, "待回访")
    await expect(entry(page, "case.resolved")).to_contain_text(health[0])
    await web.shot("07-health-result-with-photo")

    # 8. The follow-up call: dissatisfied, the unit's handling (回访 不满意) -> 重办.
    await web.login(operator, f"/cases/{case_id}")
    assert "follow_up" in await shown(page)
    await act(
        page,
        "follow_up",
        rating="dissatisfied",
        resolved="no",
        redo_by="same-unit",
        comment="来电人称机构仍由无证人员照护，未见整改。",
    )
    await expect(entry(page, "case.followed-up")).to_contain_text("不满意")
    await expect(entry(page, "case.followed-up")).to_contain_text("问题未解决")
    await expect(entry(page, "case.redo")).to_contain_text("重办")
    await expect(entry(page, "case.redo")).to_contain_text(HEALTH_NAME)
    await status_is(page, "待签收")
    assert (await facts(page))["承办单位"] == HEALTH_NAME
    await web.shot("08-follow-up-dissatisfied-redo")

    # 9. The leading office supervises the redo (督办) with a deadline.
    await web.login(office, f"/cases/{case_id}")
    assert "supervise" in await shown(page)
    due = (datetime.now(BEIJING) + timedelta(days=3)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    await act(
        page,
        "supervise",
        comments="重办件，请逐人核查保健人员资质并于期限内反馈。",
        due_by=due.strftime("%Y-%m-%dT%H:%M"),
    )
    await expect(entry(page, "case.supervised")).to_contain_text("督办")
    await expect(entry(page, "case.supervised")).to_contain_text(HEALTH_NAME)
    await expect(entry(page, "case.supervised")).to_contain_text(office[0])
    await expect(page.locator("#facts dt:text-is('督办') + dd")).to_contain_text(
        f"{due.year}/{due.month}/{due.day} 17:00"
    )
    await web.shot("09-office-supervised")
    # The unit's inbox shows the order.
    await web.login(health, "/inbox")
    await expect(page.locator(f'tr[data-case="{case_id}"]')).to_contain_text("督办")
    await web.shot("10-health-inbox-supervised")

    # 10. The department signs again and reports the redo's result.
    await page.goto(f"/cases/{case_id}")
    await act(page, "accept", note="重办，已逐人核查。")
    await act(
        page,
        "result",
        outcome="substantiated",
        findings="重办核查：两名保健人员无证，已全部停岗，机构已补充持证人员并整改。",
    )
    await status_is(page, "待回访")
    await web.shot("11-health-result-again")

    # 11. The follow-up call: satisfied, solved -> closed (办结).
    await web.login(operator, f"/cases/{case_id}")
    await act(page, "follow_up", rating="satisfied", resolved="yes", comment="来电人认可重办结果")
    await status_is(page, "已办结")
    await expect(entry(page, "case.closed")).to_be_visible()
    last_call = entry(page, "case.followed-up").last
    await expect(last_call).to_contain_text("满意")
    await expect(last_call).not_to_contain_text("不满意")
    await expect(last_call).to_contain_text("问题已解决")
    await web.shot("12-follow-up-satisfied-closed")
    case = await wait_for_case(http, case_id, status="closed")
    assert case["follow_up_rating"] == "satisfied" and case["problem_solved"] is True

    # The caller's status page: the answer, the unit and the extended date.
    await page.context.clear_cookies()
    await page.goto("/status")
    await page.fill("#case_id", case_id)
    await page.fill("#code", code)
    await page.click("#lookup button")
    await expect(page.locator("#result-status")).to_contain_text("已办结")
    await expect(page.locator("#result-times")).to_contain_text(HEALTH_NAME)
    await web.shot("13-public-status")
