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
from schemathesis import Case
from schemathesis.core.result import Err, Ok

from tests.auth import Tokens
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
