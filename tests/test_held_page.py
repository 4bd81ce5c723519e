"""The hotline centre's page for Open311 requests whose place maps to no town (网上投诉分派), in
Chromium: the operator reads the place and the description, chooses the town and dispatches;
the request becomes a case under the number its sender has. A town is refused the page.

Screenshots: $TUOYU_SCREENSHOT_DIR/held/ (test-output/screenshots/held/ by default)."""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import expect

from tests.auth import Tokens
from tests.browser import Web
from tests.polling import wait_for_case
from tests.test_open311_fixmystreet import fixmystreet_form, post, simple
from workers.stack import Stack


async def test_an_operator_dispatches_a_held_open311_request_in_the_page(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = web.page
    web.screenshots = web.screenshots / "held"
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    form = fixmystreet_form(
        tokens.token("operator"),
        lat="",
        long="",
        address_string="凯里市某小区三栋一楼托育点",
    )
    answer = await asyncio.to_thread(post, base, form)
    assert answer.status_code == 200, answer.text
    request_id = simple(answer.content)["request"][0]["service_request_id"]

    await web.login(tokens.credentials("town", "town-zhouxi"), "/held")
    await expect(page.locator("#notice")).to_contain_text("无权查看")

    await web.login(tokens.credentials("operator"), "/held")
    row = page.locator(f'#held tbody tr[data-request="{request_id}"]')
    await expect(row).to_contain_text("凯里市某小区三栋一楼托育点")
    await expect(row).to_contain_text("收费处要求一次性交六个月保育费")
    await expect(row.locator("a")).to_have_attribute("href", form["media_url"])
    await web.shot("held-01-waiting")

    await row.locator("button").click()  # no town chosen yet
    await expect(page.locator("#toast")).to_contain_text("请先选择")
    await row.locator("select").select_option("town-zhouxi")
    await row.locator("button").click()
    await expect(page.locator("#toast")).to_contain_text(
        f"已分派舟溪镇人民政府办理，案件编号 {request_id}"
    )
    await expect(row).to_have_count(0)
    await web.shot("held-02-dispatched")
    await wait_for_case(http, request_id, town="town-zhouxi")
