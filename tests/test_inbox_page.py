"""The inbox in headless Chromium: urgent cases first with their due time in Beijing time,
cases the unit only assists on apart and not counted as its overdue, search, a CSV export
whose cells cannot run as formulas, and a new urgent case announced by the server's event
stream while the page is open."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import expect

from infra.kafka import KafkaPublisher
from models import topics
from tests.auth import Tokens
from tests.browser import Web
from tests.factories import case_id_of, complaint_payload
from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack

TOWN, HELPER = "town-sankeshu", "town-panghai"


async def test_inbox_by_urgency_with_assisting_apart_search_export_and_alert(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher
) -> None:
    formula = complaint_payload(town=TOWN, institution_name='=HYPERLINK("http://x")托育')
    assisted = complaint_payload(town=HELPER)
    for payload in (formula, assisted):
        producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    await wait_for_case(http, case_id_of(formula), status="dispatched")
    await wait_for_case(http, case_id_of(assisted), status="dispatched")
    helper = tokens.headers("town", HELPER)
    other = case_id_of(assisted)
    assert (await http.post(f"/api/v1/cases/{other}/accept", json={}, headers=helper)).is_success
    asked = await http.post(
        f"/api/v1/cases/{other}/assist",
        json={"unit": TOWN, "reason": "请协助走访"},
        headers=helper,
    )
    assert asked.is_success, asked.text

    page = web.page
    await web.login(tokens.credentials("town", TOWN), "/inbox")
    own = page.locator(f'#cases tr[data-case="{case_id_of(formula)}"]')
    await expect(own).to_contain_text("截止")
    await expect(page.locator(f'#assisting tr[data-case="{other}"]')).to_be_visible()
    await expect(page.locator(f'#cases tr[data-case="{other}"]')).to_have_count(0)
    await expect(page.locator("#summary")).to_contain_text("协办、配合 1 件")

    # A new urgent case while the page is open: pushed, not polled.
    urgent = complaint_payload(category="safety-fire", town=TOWN, description="消防通道堵塞。")
    producer.publish(topics.COMPLAINTS, urgent["event_id"], json.dumps(urgent).encode())
    await expect(page.locator("#alert")).to_contain_text(case_id_of(urgent), timeout=60_000)
    first = page.locator("#cases tbody tr").first
    await expect(first).to_have_attribute("data-case", case_id_of(urgent))  # nearest deadline
    await web.shot("inbox-urgent-alert")

    await page.fill("#q", case_id_of(formula)[-6:].lower())
    await expect(page.locator("#cases tbody tr")).to_have_count(1)
    async with page.expect_download() as download:
        await page.click("#export")
    text = (await (await download.value).path()).read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == case_id_of(formula)
    assert rows[1][3].startswith("'=HYPERLINK")
    await page.fill("#q", "")
    await page.fill("#from", "2000-01-01")
    await page.fill("#to", "2000-01-02")
    await expect(page.locator("#cases tbody tr")).to_have_count(0)


async def test_a_critical_case_another_unit_handles_is_listed_apart_in_the_towns_inbox(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher
) -> None:
    """A child-abuse case goes to the city lead at once, with the town alongside: the town's
    inbox listed it among its own cases with the lead's countdown, as if the town were late
    to sign a case it cannot sign."""
    town = "zone-gaoxin"
    abuse = complaint_payload(category="child-abuse", town=town, description="孩子身上有淤青。")
    ordinary = complaint_payload(town=town)
    for payload in (abuse, ordinary):
        producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    handled = await wait_for_case(http, case_id_of(abuse), status="dispatched")
    assert handled["handler"] != town
    await wait_for_case(http, case_id_of(ordinary), status="dispatched", handler=town)

    page = web.page
    await web.login(tokens.credentials("town", town), "/inbox")
    await expect(page.locator(f'#cases tr[data-case="{case_id_of(ordinary)}"]')).to_be_visible()
    apart = page.locator(f'#assisting tr[data-case="{case_id_of(abuse)}"]')
    await expect(apart).to_be_visible()
    await expect(page.locator(f'#cases tr[data-case="{case_id_of(abuse)}"]')).to_have_count(0)
    await expect(page.locator("#assisting-title")).to_contain_text("不计入本单位超时")
    await web.shot("inbox-critical-case-apart")


async def test_a_supervision_order_past_its_deadline_shows_overdue_in_the_inbox(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens, producer: KafkaPublisher
) -> None:
    """督办 on the running stack: its deadline is a timer of the case; passed unanswered, the
    unit and the leading office are told and the unit's inbox marks it 督办逾期."""
    unit = "town-kaitang"
    payload = complaint_payload(town=unit)
    producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    case_id = case_id_of(payload)
    await wait_for_case(http, case_id, status="dispatched", handler=unit)
    town = tokens.headers("town", unit)
    assert (await http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=town)).is_success
    due = datetime.now(UTC) + timedelta(seconds=8)  # time to reach the workflow
    ordered = await http.post(
        f"/api/v1/cases/{case_id}/supervise",
        json={"comments": "请立即核查并反馈", "due_by": due.isoformat()},
        headers=tokens.headers("leading-office", "leading-office"),
    )
    assert ordered.status_code == 200, ordered.text

    async def flagged() -> bool:
        history = (await http.get(f"/api/v1/cases/{case_id}/history")).json()
        return any(h["action"] == "case.supervision-overdue" for h in history)

    assert await eventually_async(flagged, 60)
    state = (await http.get(f"/api/v1/cases/{case_id}/state")).json()
    assert state["supervisions"][0]["overdue_at"] is not None
    assert state["status"] == "accepted"

    await web.login(tokens.credentials("town", unit), "/inbox")
    await expect(web.page.locator(f'tr[data-case="{case_id}"]')).to_contain_text("督办逾期")
    await web.shot("inbox-supervision-overdue")
