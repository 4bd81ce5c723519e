"""schemathesis against the running API's OpenAPI document, with each role's token: whatever
it generates, no answer is a 500 and every rejection is explained (the native error body, or
Open311's error list). The events it manages to submit are real and go the whole way."""

from __future__ import annotations

import json
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core.result import Err, Ok

from tests.auth import Tokens
from tests.factories import complaint_payload, identity_number
from tests.polling import wait_for_case
from tests.strategies import hostile_json, with_field
from workers.stack import Stack

ROLES = {
    "operator": ("operator", None),
    "town": ("town", "town-lushan"),
    "department": ("department", "health"),
    "leading-office": ("leading-office", "leading-office"),
    "auditor": ("auditor", None),
    "admin": ("admin", None),
}
EXAMPLES = 15  # per operation; each is sent with every role's token


def explained(status: int, text: str, path: str) -> None:
    assert status < 500, (path, status, text[:500])
    if status < 400:
        return
    body = json.loads(text)
    if path.startswith("/open311/"):
        assert body[0]["description"], body
    else:
        assert body["error"]["message"], body


def test_no_generated_request_gets_a_server_error(stack: Stack, tokens: Tokens) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = [tokens.headers(*who) for who in ROLES.values()]
    results = list(schema.get_all_operations())
    invalid = [r.err() for r in results if isinstance(r, Err)]
    assert not invalid, invalid
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) >= 45
    checked: dict[str, int] = {}
    with requests.Session() as session:
        for operation in operations:
            fuzz(operation, base, session, headers, checked)
    assert len(checked) == len(operations)
    # Still serving after all that.
    assert httpx.get(f"{base}/healthz").status_code == 200


def fuzz(
    operation: Any,
    base: str,
    session: requests.Session,
    headers: list[dict[str, str]],
    checked: dict[str, int],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def send(case: Case) -> None:
        for role_headers in headers:
            response = case.call(base_url=base, session=session, headers=role_headers, timeout=60)
            explained(response.status_code, response.text, operation.path)
            checked[operation.label] = checked.get(operation.label, 0) + 1

    send()


# -- the bounds on every JSON body (models/bounds.py) ----------------------------------------

INSPECTION = {
    "kind": "spot-check",
    "institution_id": "inst-fuzz",
    "town": "town-lushan",
    "inspector_unit": "health",
    "findings": [{"code": "disinfection", "note": "未消毒"}],
}
ALARM = {
    "event_id": "fuzz-alarm",
    "occurred_at": "2026-11-29T10:00:00+08:00",
    "kind": "intrusion",
    "device_id": "34020000001320000001",
    "description": "入侵",
}
# (path, role, body): {case} is a real case, so that case actions reach their validation.
BODIES: list[tuple[str, tuple[str, str | None], dict[str, Any]]] = [
    ("/api/v1/complaints", ("operator", None), complaint_payload()),
    ("/api/v1/inspections", ("department", "health"), INSPECTION),
    ("/api/v1/alarms", ("department", "health"), ALARM),
    (
        "/api/v1/staff-checks",
        ("department", "health"),
        {"person": {"id_number": identity_number(), "name": "张三"}, "institution_id": "i-1"},
    ),
    ("/api/v1/audit/by-person", ("auditor", None), {"id_number": identity_number()}),
    ("/api/v1/cases/{case}/notes", ("operator", None), {"text": "备注"}),
    ("/api/v1/cases/{case}/accept", ("town", "town-lushan"), {"note": "签收"}),
    (
        "/api/v1/cases/{case}/return",
        ("town", "town-lushan"),
        {"reason": "非本辖区", "to_unit": "x"},
    ),
    ("/api/v1/cases/{case}/assist", ("town", "town-lushan"), {"unit": "psb", "reason": "协办"}),
    (
        "/api/v1/cases/{case}/result",
        ("town", "town-lushan"),
        {"outcome": "unsubstantiated", "findings": "经核查不属实"},
    ),
    ("/api/v1/cases/{case}/follow-up", ("operator", None), {"satisfied": True, "comment": "好"}),
    ("/api/v1/cases/{case}/close", ("operator", None), {"reason": "办结"}),
    ("/api/v1/cases/{case}/hand-down", ("department", "health"), {"unit": "x", "reason": "交办"}),
    ("/api/v1/cases/{case}/take-over", ("department", "health"), {"reason": "提级"}),
    (
        "/api/v1/cases/{case}/decisions",
        ("department", "health"),
        {"kind": "warning", "legal_basis": "《托育机构管理规范》", "reason": "警告"},
    ),
]


async def test_hostile_values_in_every_json_body(
    stack: Stack, tokens: Tokens, http: httpx.AsyncClient
) -> None:
    """Far dates, control characters, lone surrogates, huge strings and 10,000-level nesting in
    any field of every JSON body: a 4xx with the error body, never a 5xx."""
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}"
    case = (await http.post("/api/v1/complaints", json=complaint_payload())).json()["case_id"]
    await wait_for_case(http, case)
    with httpx.Client(base_url=base, timeout=60) as client:

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(data=st.data())
        def send(data: st.DataObject) -> None:
            path, role, body = data.draw(st.sampled_from(BODIES), label="body")
            field = data.draw(st.sampled_from(sorted(body)), label="field")
            raw = with_field(body, field, data.draw(hostile_json, label="value"))
            response = client.post(
                path.format(case=case),
                content=raw,
                headers={**tokens.headers(*role), "content-type": "application/json"},
            )
            explained(response.status_code, response.text, path)

        send()
    assert (await http.get("/healthz")).status_code == 200
