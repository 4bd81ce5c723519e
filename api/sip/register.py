"""REGISTER (GB/T 28181 9.1 basic registration; RFC 3261 section 10): a challenge with a
digest nonce, then 200 OK with the granted `Expires` and a `Date` the device sets its clock
from; `Expires: 0` unregisters. Every registration and unregistration goes to
`tuoyu.camera-alarms` (kinds `registered`, `unregistered`), where the device's online
state is kept.

A device unknown to the registry is challenged like any other and refused with 403 only
after it answered the challenge, so the answers do not tell which device ids exist.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from api.sip import digest, messages
from api.sip.messages import SipMessage
from api.sip.registrations import DeviceEntry, Registration, Registrations
from infra.settings import Settings
from models.camera import CameraAlarm, CameraAlarmKind
from models.timeutil import SHANGHAI

log = logging.getLogger(__name__)
Publish = Callable[[CameraAlarm], Awaitable[None]]
Lookup = Callable[[str], Awaitable[DeviceEntry | None]]
Refuse = Callable[[str], Awaitable[None]]  # dead-letters the request with this reason
_DEVICE_ID = re.compile(r"[0-9A-Za-z_\-]{1,64}")
_EXPIRES = re.compile(r";\s*expires\s*=\s*([0-9]{1,10})", re.I)


def gb_date(now: datetime) -> str:
    """GB/T 28181's Date header: local time with milliseconds, no offset."""
    local = now.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def requested_expires(request: SipMessage) -> int | None:
    raw = request.header("expires")
    if raw is None:
        found = _EXPIRES.search(request.header("contact") or "")
        raw = found.group(1) if found else None
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if re.fullmatch(r"[0-9]{1,10}", raw) else -1


@dataclass
class Outcome:
    reply: SipMessage
    registration: Registration | None = None  # registered (or refreshed) by this request
    fresh: bool = False  # new, or from a new address: query its catalog, subscribe


class Registrar:
    def __init__(
        self,
        settings: Settings,
        registrations: Registrations,
        lookup: Lookup,
        publish: Publish,
    ) -> None:
        self._settings = settings
        self._registrations = registrations
        self._lookup = lookup
        self._publish = publish
        self.digest = digest.Digest(settings.sip_domain, settings.sip_nonce_ttl)
        self._failures: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()

    def _locked(self, device_id: str, host: str, now: float) -> bool:
        count, since = self._failures.get((device_id, host), (0, now))
        if now - since > self._settings.sip_auth_lockout:
            self._failures.pop((device_id, host), None)
            return False
        return count >= self._settings.sip_auth_failures_max

    def _failed(self, device_id: str, host: str, now: float) -> None:
        count, since = self._failures.pop((device_id, host), (0, now))
        self._failures[(device_id, host)] = (count + 1, since)
        while len(self._failures) > digest.MAX_TRACKED:
            self._failures.popitem(last=False)

    async def register(
        self, request: SipMessage, peer: tuple[str, int], transport: str, refuse: Refuse
    ) -> Outcome:
        device_id = messages.uri_user(request.header("to")) or messages.uri_user(
            request.header("from")
        )
        if not _DEVICE_ID.fullmatch(device_id):
            await refuse("REGISTER without a well-formed device id in To")
            return Outcome(messages.response(request, 400, "Bad Request (device id)"))
        version = (request.header("x-gb-ver") or "").strip()[:8] or None
        credentials = request.header("authorization")
        entry = await self._lookup(device_id)
        algorithms = [digest.MD5]
        if entry is not None and digest.SHA256 in entry.ha1:
            algorithms = [digest.SHA256, digest.MD5]  # RFC 8760: preferred first
        if credentials is None:
            return Outcome(self._challenge(request, device_id, algorithms, version))
        try:
            params = digest.parse_params(credentials)
        except ValueError as exc:
            await refuse(f"REGISTER with bad credentials: {exc}")
            return Outcome(self._with_version(messages.response(request, 400), version))
        if entry is None or not entry.ha1:
            await refuse(f"REGISTER from device {device_id}: not in the registry or no secret")
            return Outcome(self._with_version(messages.response(request, 403), version))
        now = time.time()
        if self._locked(device_id, peer[0], now):
            await refuse(f"REGISTER from device {device_id} refused: too many wrong passwords")
            reply = messages.response(request, 403, "Forbidden (too many failed attempts)")
            return Outcome(self._with_version(reply, version))
        verdict = self.digest.verify(
            params, device_id=device_id, method="REGISTER", secrets_by_algorithm=entry.ha1
        )
        if verdict.stale:
            return Outcome(self._challenge(request, device_id, algorithms, version, stale=True))
        if not verdict.ok:
            if verdict.reason == "wrong password":
                self._failed(device_id, peer[0], now)
            await refuse(f"REGISTER from device {device_id} refused: {verdict.reason}")
            return Outcome(self._with_version(messages.response(request, 403), version))
        self._failures.pop((device_id, peer[0]), None)
        return await self._registered(request, entry, peer, transport, version)

    def _challenge(
        self,
        request: SipMessage,
        device_id: str,
        algorithms: list[str],
        version: str | None,
        stale: bool = False,
    ) -> SipMessage:
        reply = messages.response(request, 401)
        for value in self.digest.challenges(device_id, algorithms, stale):
            reply.headers.append(("www-authenticate", value))
        return self._with_version(reply, version)

    @staticmethod
    def _with_version(reply: SipMessage, version: str | None) -> SipMessage:
        # GB/T 28181-2022 annex I: the platform states its version to a device that stated
        # one; a 2016 device (no X-GB-Ver) gets the answers it always got.
        if version:
            reply.headers.append(("x-gb-ver", "3.0"))
        return reply

    async def _registered(
        self,
        request: SipMessage,
        entry: DeviceEntry,
        peer: tuple[str, int],
        transport: str,
        version: str | None,
    ) -> Outcome:
        settings = self._settings
        now = time.time()
        wanted = requested_expires(request)
        if wanted is None:
            wanted = 3600
        if wanted < 0:
            return Outcome(self._with_version(messages.response(request, 400), version))
        device_id = entry.device_id
        if wanted == 0:
            gone = await asyncio.to_thread(self._registrations.remove, device_id)
            if gone is not None:
                await self._publish(self._event(entry, CameraAlarmKind.UNREGISTERED, now))
            log.info("device %s unregistered", device_id)
            reply = messages.response(request, 200)
            reply.headers += [("expires", "0"), ("date", gb_date(datetime.now(UTC)))]
            return Outcome(self._with_version(reply, version))
        if wanted < settings.sip_register_min_expires:
            reply = messages.response(request, 423)
            reply.headers.append(("min-expires", str(settings.sip_register_min_expires)))
            return Outcome(self._with_version(reply, version))
        granted = min(wanted, settings.sip_register_max_expires)
        previous = self._registrations.get(device_id, now)
        registration = Registration(
            device_id=device_id,
            institution_id=entry.institution_id,
            host=peer[0],
            port=peer[1],
            transport=transport,
            registered_at=previous.registered_at if previous else now,
            expires_at=now + granted,
            gb_version=version,
            offline_after=self.offline_after(entry),
            rooms=entry.rooms,
            subscription_expires_at=previous.subscription_expires_at if previous else None,
            subscription=previous.subscription if previous else None,
        )
        # Published before the 200 OK: a device told it is registered is online downstream.
        await self._publish(self._event(entry, CameraAlarmKind.REGISTERED, now))
        await asyncio.to_thread(self._registrations.put, registration)
        log.info("device %s registered for %ds from %s:%d", device_id, granted, *peer)
        reply = messages.response(request, 200)
        contact = request.header("contact")
        if contact:
            reply.headers.append(("contact", f"{contact.split(';')[0]};expires={granted}"))
        reply.headers += [("expires", str(granted)), ("date", gb_date(datetime.now(UTC)))]
        moved = previous is None or (previous.host, previous.port) != peer
        return Outcome(self._with_version(reply, version), registration, fresh=moved)

    def offline_after(self, entry: DeviceEntry) -> float:
        if entry.keepalive_interval:
            return float(entry.keepalive_interval * self._settings.sip_keepalive_missed)
        return self._settings.keepalive_timeout

    def _event(self, entry: DeviceEntry, kind: CameraAlarmKind, now: float) -> CameraAlarm:
        return CameraAlarm(
            event_id=f"sip:{entry.device_id}:{kind.value}:{int(now * 1000)}",
            occurred_at=datetime.fromtimestamp(now, UTC),
            kind=kind,
            device_id=entry.device_id,
            institution_id=entry.institution_id,
            source="sip",
            offline_after=self.offline_after(entry),
        )

    async def expire(self, now: float) -> None:
        """Registrations not refreshed in time: the device is gone."""
        for gone in self._registrations.expired(now):
            await asyncio.to_thread(self._registrations.remove, gone.device_id)
            log.warning("registration of device %s expired", gone.device_id)
            event = CameraAlarm(
                event_id=f"sip:{gone.device_id}:expired:{int(gone.expires_at)}",
                occurred_at=datetime.fromtimestamp(gone.expires_at, UTC),
                kind=CameraAlarmKind.UNREGISTERED,
                device_id=gone.device_id,
                institution_id=gone.institution_id,
                description="注册已过期",
                source="sip",
            )
            try:
                await self._publish(event)
            except Exception as exc:  # next sweep: it is no longer registered, logged here
                log.error("cannot publish the expiry of %s: %r", gone.device_id, exc)
