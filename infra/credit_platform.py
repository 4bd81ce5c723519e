"""The city's public credit information sharing platform, behind a small interface: events
always go on `tuoyu.credit-platform`; a real platform's HTTP endpoint is called too when
`TUOYU_CREDIT_PLATFORM_URL` is set."""

from __future__ import annotations

from typing import Protocol

import httpx

from models.credit import CreditPlatformEvent


class CreditPlatform(Protocol):
    def send(self, event: CreditPlatformEvent) -> None: ...


class HttpCreditPlatform:
    """POSTs each event as JSON; the event id lets the platform drop repeats."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout

    def send(self, event: CreditPlatformEvent) -> None:
        response = httpx.post(
            self._url,
            content=event.model_dump_json(),
            headers={"content-type": "application/json", "idempotency-key": event.event_id},
            timeout=self._timeout,
        )
        response.raise_for_status()


def from_url(url: str | None) -> CreditPlatform | None:
    return HttpCreditPlatform(url) if url else None
