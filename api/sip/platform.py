"""Requests the platform sends to a registered device, and the device's answers to them:
the Catalog query after every new registration (its Response lists the channels of an
NVR, stored with the room each watches), and for GB/T 28181-2022 devices the alarm
subscription (SUBSCRIBE, `Event: presence` as the standard's examples and common platforms
use; the device then sends alarms as NOTIFY in that dialog), refreshed in-dialog when two
thirds of its Expires have passed."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from api.sip import messages, queries
from api.sip.messages import SipMessage
from api.sip.registrations import Registration, Registrations
from infra.metrics import SIP_REQUESTS

log = logging.getLogger(__name__)
Send = Callable[[bytes], None]
MAX_PENDING = 4096  # requests awaiting an answer; the oldest are forgotten past this


class Platform:
    def __init__(
        self,
        platform_id: str,
        local: tuple[str, int],
        registrations: Registrations,
        subscription_expires: int,
    ) -> None:
        self._platform_id = platform_id
        self._local = local
        self._registrations = registrations
        self._expires = subscription_expires
        self._sn = itertools.count(int(time.time()) % 100_000)
        self._pending: OrderedDict[str, tuple[str, str, dict[str, str]]] = OrderedDict()
        self._senders: dict[str, Send] = {}

    def sender(self, device_id: str, send: Send) -> None:
        self._senders[device_id] = send

    def _request(
        self,
        registration: Registration,
        method: str,
        content: bytes,
        dialog: dict[str, str] | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        send = self._senders.get(registration.device_id)
        if send is None:
            return  # registered before a restart: the next REGISTER brings a way back
        if registration.is_2022:
            extra = [*(extra or []), ("x-gb-ver", "3.0")]
        request = messages.message_request(
            platform_id=self._platform_id,
            local=self._local,
            device_id=registration.device_id,
            remote=(registration.host, registration.port),
            transport=registration.transport,
            content=content,
            method=method,
            dialog=dialog,
            extra=extra,
        )
        call_id = request.header("call-id") or ""
        state = {
            "call-id": call_id,
            "from-tag": messages.tag_of(request.header("from")),
            "cseq": (request.header("cseq") or "1").split()[0],
            "expires": str(self._expires),
        }
        self._pending[call_id] = (registration.device_id, method, state)
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        SIP_REQUESTS.labels(f"{method}-out", "sent").inc()
        send(request.encode())

    def after_registration(self, registration: Registration) -> None:
        self._request(
            registration, "MESSAGE", queries.catalog_query(registration.device_id, next(self._sn))
        )
        if registration.is_2022:
            self.subscribe(registration)

    def subscribe(self, registration: Registration) -> None:
        body = queries.alarm_subscription(
            registration.device_id, next(self._sn), datetime.now(UTC), self._expires
        )
        extra = [
            ("event", "presence"),
            ("expires", str(self._expires)),
            ("contact", f"<sip:{self._platform_id}@{self._local[0]}:{self._local[1]}>"),
        ]
        self._request(registration, "SUBSCRIBE", body, registration.subscription, extra)

    async def answered(self, response: SipMessage) -> None:
        """A device's answer to one of our requests."""
        found = self._pending.pop(response.header("call-id") or "", None)
        if found is None:
            return
        device_id, method, state = found
        if method != "SUBSCRIBE":
            return
        registration = self._registrations.get(device_id, time.time())
        if registration is None:
            return
        if response.status // 100 != 2:
            log.warning("device %s refused the alarm subscription: %s", device_id, response.status)
            registration.subscription = None
            return
        raw = (response.header("expires") or str(self._expires)).strip()
        # ASCII digits only (str.isdigit takes any script's digits).
        expires = int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else self._expires
        state["to-tag"] = messages.tag_of(response.header("to"))
        state["expires"] = str(expires)
        registration.subscription = state
        await asyncio.to_thread(self._registrations.subscribed, registration, expires, time.time())
        log.info("alarm subscription of device %s for %ds", device_id, expires)

    def refresh(self, now: float) -> None:
        for registration in self._registrations.refresh_due(now):
            log.info("refreshing the alarm subscription of device %s", registration.device_id)
            self.subscribe(registration)
            # Until the answer comes, not due again.
            registration.subscription_expires_at = now + self._expires
