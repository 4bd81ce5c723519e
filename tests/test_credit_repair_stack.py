"""Credit repair under Order 36 on the running stack, through the HTTP API and the topics:
the tier from the sanction table, the entry with its measures, the institution's commitment,
the finding unit's grant, the removal that stops sharing, and every department lifting its
measures, one of them chased (the stack's lifting window runs on seconds)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from models import topics
from tests.auth import Tokens
from tests.factories import complaint_payload
from tests.kafka_reader import TopicReader
from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack

COMMITMENT = "本机构承诺所提交材料真实有效，已纠正失信行为，如有不实愿承担相应法律责任。"


def value(record: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(record.value)
    return parsed


async def post(http: httpx.AsyncClient, path: str, body: Any, headers: Any) -> httpx.Response:
    return await http.post(path, json=body, headers=headers)


async def test_order_36_repair_and_synchronous_lifting_on_the_stack(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    operator = tokens.headers("operator")
    lushan = tokens.headers("town", "town-lushan")
    health = tokens.headers("department", "health")
    office = tokens.headers("leading-office", "leading-office")
    payload = complaint_payload(description="家长反映机构多次未开展晨午检，且收取三个月托育费。")
    submitted = await post(http, "/api/v1/complaints", payload, operator)
    assert submitted.status_code == 202, submitted.text
    case_id = submitted.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched", assigned_units=["town-lushan"])
    for action, body in [
        ("accept", {}),
        ("result", {"outcome": "substantiated", "findings": "经核查，未开展晨午检属实。"}),
    ]:
        answer = await post(http, f"/api/v1/cases/{case_id}/{action}", body, lushan)
        assert answer.status_code == 200, answer.text

    tiers = (await http.get("/api/v1/credit-tiers", headers=lushan)).json()
    assert tiers["tiers"]["serious"]["min_months"] == 12
    minor = [r["sanction"] for r in tiers["tier_rules"] if r["tier"] == "minor"]
    assert "fine-simplified" in minor

    start = {"legal_basis": "《中华人民共和国行政处罚法》第五十一条", "reason": "未开展晨午检"}
    path = f"/api/v1/cases/{case_id}/joint-punishment"

    async def started() -> bool:  # the enforcement workflow starts after the result
        answer = await http.get(f"/api/v1/cases/{case_id}/enforcement", headers=health)
        return answer.status_code == 200

    assert await eventually_async(started)
    unknown = await post(http, path, {**start, "sanction": "none", "publicity_months": 1}, health)
    assert unknown.json()["error"]["code"] == "unknown_sanction"
    two_tier = await post(http, path, {**start, "serious": True, "publicity_months": 6}, health)
    assert two_tier.status_code == 422, two_tier.text
    assert two_tier.json()["error"]["code"] == "publicity_out_of_range"
    assert "12 至 36" in two_tier.json()["error"]["message"]
    answer = await post(
        http, path, {**start, "sanction": "fine-simplified", "publicity_months": 1}, health
    )
    assert answer.status_code == 200, answer.text
    entry_id = answer.json()["joint_punishment"]

    credit = TopicReader(stack.settings.kafka_bootstrap, topics.CREDIT_PLATFORM)
    notes = TopicReader(stack.settings.kafka_bootstrap, topics.NOTIFICATIONS)
    try:
        # Published once the (3 s) objection window is over, with every measure.
        [entry] = await credit.wait_for(
            lambda r: value(r)["entry_id"] == entry_id and value(r)["action"] == "entry"
        )
        assert value(entry)["tier"] == "minor" and not value(entry)["serious"]
        departments = [m["department"] for m in value(entry)["measures"]]
        assert {"samr", "civil", "health", "psb"} <= set(departments)

        credit_path = f"/api/v1/credit/{entry_id}"
        early = await post(http, f"{credit_path}/repair", {"reason": "罚款已缴清"}, operator)
        assert early.status_code == 422 and early.json()["error"]["code"] == "no_commitment"
        assert "信用承诺" in early.json()["error"]["message"]
        for step, body in [
            ("commitment", {"commitment": COMMITMENT}),
            ("repair", {"reason": "罚款已当场缴清"}),
        ]:
            answer = await post(http, f"{credit_path}/{step}", body, operator)
            assert answer.status_code == 200, answer.text
        grant = {"upheld": True, "reason": "已履行法定义务，同意修复"}
        refused = await post(http, f"{credit_path}/repair-review", grant, office)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_finding_unit"
        answer = await post(http, f"{credit_path}/repair-review", grant, health)
        assert answer.status_code == 200, answer.text

        [removal] = await credit.wait_for(
            lambda r: value(r)["entry_id"] == entry_id and value(r)["action"] == "removal"
        )
        assert value(removal)["repaired"] and value(removal)["sharing_stopped"]
        liftings = await notes.wait_for(
            lambda r: value(r)["kind"] == "credit-lifting" and value(r)["case_id"] == case_id,
            count=len(departments),
        )
        assert sorted(r.key.decode() for r in liftings) == sorted(departments)

        late, *prompt = departments
        for unit in prompt:
            answer = await post(
                http,
                f"{credit_path}/lifting-acknowledge",
                {"note": "已解除"},
                tokens.headers("department", unit),
            )
            assert answer.status_code == 200, answer.text
        # The late department is reminded, then the leading group office is told.
        reminded = await notes.wait_for(
            lambda r: (
                value(r)["kind"] == "reminder"
                and value(r)["case_id"] == case_id
                and "解除" in value(r)["title"]
                and r.key.decode() == late
            )
        )
        assert reminded, "the late department was not reminded"
        [escalation] = await notes.wait_for(
            lambda r: (
                value(r)["kind"] == "escalation"
                and value(r)["case_id"] == case_id
                and "解除" in value(r)["title"]
            )
        )
        assert escalation.key.decode() == "leading-office"
    finally:
        credit.close()
        notes.close()

    late_headers = tokens.headers("department", late)
    answer = await post(http, f"{credit_path}/lifting-acknowledge", {}, late_headers)
    assert answer.status_code == 200, answer.text

    async def lifted() -> bool:
        state = (await http.get(credit_path, headers=health)).json()
        return state["lifting"] == [] and sorted(state["lifted"]) == sorted(departments)

    assert await eventually_async(lifted)
    admin = tokens.headers("admin")
    key = f"name:town-lushan:{payload['institution_name']}"
    records = (await http.get("/api/v1/integrity", params={"key": key}, headers=admin)).json()
    kinds = [r["kind"] for r in records]
    assert "credit-commitment" in kinds and kinds.count("credit-lifting") >= len(departments) + 2
