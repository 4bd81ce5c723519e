"""The supervision pages in headless Chromium with real data from the running stack: a unit's
inbox with countdowns and overdue cases highlighted, a case's timeline, the dashboard's charts
and 2025 targets, the ban check. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import expect

from infra.kafka import KafkaPublisher
from models import topics
from tests.auth import Tokens
from tests.browser import Web
from tests.factories import case_id_of, complaint_payload, identity_number
from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack


async def test_inbox_counts_down_and_highlights_overdue_cases_then_the_case_timeline(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher
) -> None:
    town = "town-wanshui"
    ordinary = complaint_payload(town=town)  # one working day to accept
    high = complaint_payload(category="safety-fire", town=town, description="消防通道被堵塞。")
    for payload in (ordinary, high):
        producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    await wait_for_case(http, case_id_of(ordinary), status="dispatched", assigned_units=[town])

    page = web.page
    # The page's clock, not the server's: the countdown is checked before and after the
    # deadline without waiting a working day.
    await page.clock.install()
    await web.login(tokens.credentials("town", town), "/inbox")
    row = page.locator(f'tr[data-case="{case_id_of(ordinary)}"]')
    await expect(row.locator(".countdown")).to_contain_text("还剩")
    await expect(row).not_to_have_class("overdue")
    await expect(page.locator("#unit")).to_be_disabled()  # a town sees its own inbox only
    await page.clock.fast_forward(10 * 24 * 3600 * 1000)  # ten days on (ms)
    await expect(row).to_have_class("overdue")
    await expect(row.locator(".countdown")).to_contain_text("已超时")
    await web.shot("inbox")

    # The high case's timeline: on the test policy it is reminded after 4 seconds.
    high_id = case_id_of(high)

    async def reminded() -> bool:
        history = await http.get(f"/api/v1/cases/{high_id}/history")
        return history.status_code == 200 and any(
            r["action"] == "case.reminded" for r in history.json()
        )

    assert await eventually_async(reminded, 120)
    await web.login(tokens.credentials("town", town), f"/cases/{high_id}")
    await expect(page.locator("#facts")).to_contain_text("安全与消防")
    timeline = page.locator("#timeline li")
    await expect(timeline.filter(has_text="立案")).not_to_have_count(0)
    await expect(timeline.filter(has_text="派单")).not_to_have_count(0)
    await expect(page.locator('#timeline li[data-action="case.reminded"]').first).to_contain_text(
        "催办"
    )
    await web.shot("case-timeline")

    # Another town's case (one that exists) is not shown to this town, nor is its text.
    foreign = complaint_payload(town="town-lushan", description="炉山镇某托育园卫生问题。")
    producer.publish(topics.COMPLAINTS, foreign["event_id"], json.dumps(foreign).encode())
    await wait_for_case(http, case_id_of(foreign), assigned_units=["town-lushan"])
    await page.goto(f"/cases/{case_id_of(foreign)}")
    await expect(page.locator("#notice")).to_contain_text("无权查看")
    await expect(page.locator("body")).not_to_contain_text("炉山镇某托育园卫生问题")


async def test_dashboard_renders_charts_and_the_2025_targets(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher
) -> None:
    payload = complaint_payload(category="food-safety", town="street-yatang")
    producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    await wait_for_case(http, case_id_of(payload), status="dispatched")

    page = web.page
    await web.login(tokens.credentials("leading-office", "leading-office"), "/dashboard")
    await expect(page.locator("#total")).to_contain_text("期间受理")
    await expect(page.locator("#targets tbody tr")).to_have_count(3)
    await expect(page.locator('#targets tr[data-target="health-management"]')).to_contain_text("85")
    await expect(page.locator("#chart-category svg rect.bar")).not_to_have_count(0)
    await expect(page.locator("#chart-town svg")).to_contain_text("鸭塘街道办事处")
    await expect(page.locator("#chart-acceptance svg")).to_be_visible()
    await expect(page.locator("#chart-category svg")).to_contain_text("食品安全")
    await expect(page.locator("#chart-category svg text.total")).not_to_have_count(0)  # values
    # The leading office fills in a target's figure in the page; it is audited.
    row = page.locator('#targets tr[data-target="places-per-1000"]')
    await row.locator('input[name="reported"]').fill("2.6")
    await row.locator("button").click()
    await expect(row).to_contain_text("2.6个")
    await expect(row).to_contain_text("未达标")
    history = await http.get(
        "/api/v1/audit",
        params={"action": "target.reported"},
        headers=tokens.headers("auditor"),
    )
    assert history.status_code == 200 and "places-per-1000" in history.text, history.text
    await web.shot("dashboard")

    # A town sees its own town only, and cannot fill in targets.
    await web.login(tokens.credentials("town", "street-yatang"), "/dashboard")
    await expect(page.locator("#scope")).to_contain_text("鸭塘")
    await expect(page.locator("#chart-town svg")).to_contain_text("鸭塘街道办事处")
    await expect(page.locator("#targets input")).to_have_count(0)
    refused = await http.put(
        "/api/v1/statistics/targets/places-per-1000",
        json={"reported": 9, "as_of": "2025-01-01"},
        headers=tokens.headers("town", "street-yatang"),
    )
    assert refused.status_code == 403


async def test_ban_check_page(stack: Stack, web: Web, tokens: Tokens) -> None:
    page = web.page
    await web.login(tokens.credentials("department", "health"), "/bans")
    await expect(page.locator("#registry-card")).to_be_visible()  # Health may see the list
    await page.fill("#person_name", "王某")
    await page.fill("#id_number", identity_number())
    await page.click("#check button")
    await expect(page.locator("#verdict-title")).to_have_text("未发现禁入记录")
    await web.shot("ban-check")
    await page.fill("#id_number", "123")
    await page.click("#check button")
    await expect(page.locator("#toast")).to_contain_text("身份证号码")

    await web.login(tokens.credentials("town", "town-lushan"), "/bans")
    await expect(page.locator("#check")).to_be_visible()
    await expect(page.locator("#registry-card")).to_be_hidden()  # towns may not list bans
