"""The pluggable credit-platform client against a real (local) HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from infra.credit_platform import HttpCreditPlatform, from_url
from models.credit import CreditPlatformEvent

received: list[tuple[dict[str, str], dict[str, Any]]] = []


class Platform(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append((dict(self.headers), json.loads(body)))
        status = 503 if self.path == "/down" else 202
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def platform() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def event() -> CreditPlatformEvent:
    return CreditPlatformEvent(
        event_id="credit-TY1:published",
        occurred_at=datetime.now(UTC),
        action="entry",
        entry_id="credit-TY1",
        institution_id="KL-1",
        institution_name="某托育园",
        serious=True,
        reason="虐童行为查实",
        legal_basis="国发〔2016〕33号",
    )


def test_entries_are_posted_with_an_idempotency_key_and_failures_raise(platform: str) -> None:
    assert from_url(None) is None
    HttpCreditPlatform(f"{platform}/entries").send(event())
    headers, body = received[-1]
    assert headers["idempotency-key"] == "credit-TY1:published"
    assert body["institution_name"] == "某托育园" and body["action"] == "entry"
    # A platform that is down fails the activity, which Temporal retries.
    with pytest.raises(httpx.HTTPStatusError):
        HttpCreditPlatform(f"{platform}/down").send(event())
