"""Joint punishment and credit repair (Order 36) worked on the case page, in Chromium: the
lead department starts the joint punishment; once published, the hotline records the
institution's credit commitment and its repair request; the department grants the repair;
a department that applied a measure reports it lifted. Each person sees only the buttons of
their step, and the enforcement card shows where the entry stands.

Screenshots: $TUOYU_SCREENSHOT_DIR/credit/ (test-output/screenshots/credit/ by default)."""

from __future__ import annotations

import httpx
from playwright.async_api import Locator, Page, expect

from tests.auth import Tokens
from tests.browser import Web
from tests.factories import complaint_payload
from tests.polling import eventually_async, wait_for_case
from tests.test_case_page import act, shown
from workers.stack import Stack

TOWN = "town-lushan"
COMMITMENT = "本机构承诺所提交材料真实有效，已纠正失信行为，如有不实愿承担相应法律责任。"


def button(page: Page, action: str) -> Locator:
    return page.locator(f'#action-buttons button[data-action="{action}"]')


def card(page: Page, label: str) -> Locator:
    return page.locator(f"#enforcement dt:text-is('{label}') + dd")


async def test_credit_repair_worked_in_the_case_page(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = web.page
    web.screenshots = web.screenshots / "credit"
    operator = tokens.headers("operator")
    town = tokens.headers("town", TOWN)
    payload = complaint_payload(description="家长反映机构多次未开展晨午检，收费后未提供服务。")
    submitted = await http.post("/api/v1/complaints", json=payload, headers=operator)
    assert submitted.status_code == 202, submitted.text
    case_id = submitted.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched", assigned_units=[TOWN])
    for action, body in [
        ("accept", {}),
        ("result", {"outcome": "substantiated", "findings": "经核查，未开展晨午检属实。"}),
    ]:
        answer = await http.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=town)
        assert answer.status_code == 200, answer.text
    health = tokens.headers("department", "health")

    async def enforcement_started() -> bool:
        answer = await http.get(f"/api/v1/cases/{case_id}/enforcement", headers=health)
        return answer.status_code == 200

    assert await eventually_async(enforcement_started)

    # The lead department starts the joint punishment from the page.
    await web.login(tokens.credentials("department", "health"), f"/cases/{case_id}")
    await expect(page.locator("#enforcement-card")).to_be_visible()
    assert "joint_punishment" in await shown(page)
    await act(
        page,
        "joint_punishment",
        sanction="fine-simplified",
        serious="no",
        publicity_months="1",
        legal_basis="《中华人民共和国行政处罚法》第五十一条",
        reason="未开展晨午检",
    )
    await web.shot("credit-01-joint-punishment-started")

    async def published() -> bool:
        enforcement = await http.get(f"/api/v1/cases/{case_id}/enforcement", headers=health)
        entry = enforcement.json().get("joint_punishment")
        if not entry:
            return False
        credit = await http.get(f"/api/v1/credit/{entry}", headers=health)
        return bool(credit.status_code == 200 and credit.json()["status"] == "published")

    assert await eventually_async(published)  # after the (3 s) objection window

    # The hotline records the commitment first; the repair request is offered only after it.
    await web.login(tokens.credentials("operator"), f"/cases/{case_id}")
    await expect(card(page, "联合惩戒")).to_have_text("已公示")
    offered = await shown(page)
    assert "credit_commitment" in offered and "credit_repair" not in offered
    await act(page, "credit_commitment", commitment=COMMITMENT)
    await expect(card(page, "信用承诺")).to_have_text(COMMITMENT)
    await act(page, "credit_repair", reason="罚款已当场缴清，晨午检制度已落实")
    await expect(button(page, "credit_repair")).to_have_count(0)  # asked once
    await web.shot("credit-02-commitment-and-repair-request")

    # The finding department grants it; the leading office may not (谁认定、谁修复).
    await web.login(tokens.credentials("leading-office", "leading-office"), f"/cases/{case_id}")
    await expect(page.locator("#enforcement-card")).to_be_visible()
    assert "credit_repair_review" not in await shown(page)
    await web.login(tokens.credentials("department", "health"), f"/cases/{case_id}")
    await act(page, "credit_repair_review", upheld="yes", reason="已履行法定义务，同意修复")
    await expect(card(page, "联合惩戒")).to_have_text("已移出")
    await expect(button(page, "credit_repair_review")).to_have_count(0)  # decided once
    for step in ("信用承诺", "信用修复申请", "信用修复审核", "移出联合惩戒", "通知解除惩戒措施"):
        await expect(page.locator("#timeline")).to_contain_text(step)
    await expect(card(page, "待解除惩戒措施")).to_contain_text("市场监督管理局")
    await web.shot("credit-03-repaired-measures-to-lift")

    # A department that applied a measure reports it lifted, and drops off the list.
    await web.login(tokens.credentials("department", "samr"), f"/cases/{case_id}")
    assert await shown(page) >= {"credit_lifting"}
    await act(page, "credit_lifting", note="已解除限制措施")
    await expect(card(page, "待解除惩戒措施")).not_to_contain_text("市场监督管理局")
    await expect(button(page, "credit_lifting")).to_have_count(0)
    await web.shot("credit-04-a-department-lifted-its-measure")
