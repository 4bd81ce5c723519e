"""The SIP gateway: UDP and TCP listeners, one handler for both.

A device first registers (REGISTER with digest authentication, api/sip/register.py); the
platform then asks for its catalog and, for GB/T 28181-2022 devices, subscribes to its
alarms (api/sip/platform.py). A MESSAGE (or, in a subscription, a NOTIFY) with an Alarm or
Keepalive from a registered device is normalised and produced to `tuoyu.camera-alarms`
(key: device id) before it is answered 200 OK, so a device whose alarm was not stored gets
an error and sends it again. An alarm MESSAGE is then acknowledged the GB/T 28181 way, with
the platform's own MESSAGE carrying `<Response>...<Result>OK</Result>`. A device that has
not registered is answered 403; anything unusable 4xx; both are dead-lettered with their
original bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from api.sip import manscdp, messages, queries
from api.sip.messages import MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, SipError, SipMessage
from api.sip.platform import Platform
from api.sip.register import Registrar
from api.sip.registrations import Directory, Registration, Registrations
from infra.db import SessionFactory
from infra.metrics import DEAD_LETTERED, EVENTS_IN, SIP_REQUESTS
from infra.settings import Settings
from models import topics
from models.camera import CameraAlarm, CameraAlarmKind
from models.notifications import DeadLetter, DeadLetterSource

log = logging.getLogger(__name__)
Send = Callable[[bytes], None]
MANSCDP = "application/manscdp+xml"
ALLOW = "REGISTER, MESSAGE, NOTIFY, OPTIONS, ACK"


class Publisher(Protocol):
    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


class Gateway:
    def __init__(self, publisher: Publisher, settings: Settings, sessions: SessionFactory) -> None:
        self._publisher = publisher
        self._settings = settings
        self._platform_id = settings.sip_platform_id
        self._local = (settings.sip_host, settings.sip_port)
        self.directory = Directory(sessions)
        self.registrations = Registrations(sessions)
        self.registrar = Registrar(
            settings,
            self.registrations,
            lambda device: asyncio.to_thread(self.directory.device, device),
            self._publish_event,
        )
        self.platform = Platform(
            self._platform_id, self._local, self.registrations, settings.sip_subscription_expires
        )

    async def start(self) -> None:
        settings = self._settings
        loaded = await asyncio.to_thread(
            self.registrations.load,
            self.directory,
            time.time(),
            settings.keepalive_timeout,
            settings.sip_keepalive_missed,
        )
        log.info("%d registrations still valid", loaded)

    async def sweep(self) -> None:
        """Expired registrations and subscriptions due for refresh; runs until cancelled."""
        while True:
            await asyncio.sleep(self._settings.sip_sweep_interval)
            try:
                now = time.time()
                await self.registrar.expire(now)
                self.platform.refresh(now)
            except Exception:
                log.exception("registration sweep failed; the next one retries")

    async def handle(self, data: bytes, peer: tuple[str, int], transport: str, send: Send) -> None:
        """Answer one message. Never raises: a bug answers 500 and the listener goes on."""
        try:
            await self._handle(data, peer, transport, send)
        except Exception:
            log.exception("SIP message from %s:%s failed", *peer)

    async def _handle(self, data: bytes, peer: tuple[str, int], transport: str, send: Send) -> None:
        try:
            request = messages.parse(data)
        except SipError as exc:
            await self._dead_letter(data, f"SIP {exc.status}: {exc.reason}", peer)
            bare = _lenient(data)
            if bare is not None and bare.is_request:
                self._answer(send, bare, exc.status, exc.reason)
            return
        if not request.is_request:
            log.debug("%s from %s:%s", request.start_line, *peer)  # a device answering us
            await self.platform.answered(request)
            return
        method = request.method
        if method == "ACK":
            return
        if method == "REGISTER":
            await self._register(request, data, peer, transport, send)
            return
        if method == "OPTIONS":
            self._send(send, messages.response(request, 200), method)
            return
        if method not in ("MESSAGE", "NOTIFY"):
            reply = messages.response(request, 405)
            reply.headers.append(("allow", ALLOW))
            self._send(send, reply, method)
            return
        await self._message(request, data, peer, transport, send)

    async def _register(
        self, request: SipMessage, data: bytes, peer: tuple[str, int], transport: str, send: Send
    ) -> None:
        async def refuse(reason: str) -> None:
            await self._dead_letter(data, reason, peer)

        try:
            outcome = await self.registrar.register(request, peer, transport, refuse)
        except Exception as exc:
            log.warning("cannot register %s:%s: %r", *peer, exc)
            self._answer(send, request, 503, "Service Unavailable")
            return
        self._send(send, outcome.reply, "REGISTER", outcome.reply.status)
        registration = outcome.registration
        if registration is None:
            return
        self.platform.sender(registration.device_id, send)
        if outcome.fresh:
            self.platform.after_registration(registration)
        elif registration.is_2022 and registration.subscription is None:
            # Never answered, refused, ended by the device, or lost with a restart.
            self.platform.subscribe(registration)

    async def _message(
        self, request: SipMessage, data: bytes, peer: tuple[str, int], transport: str, send: Send
    ) -> None:
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != MANSCDP:
            reason = f"Content-Type must be Application/MANSCDP+xml, not {content_type[:40]!r}"
            await self._dead_letter(data, reason, peer)
            self._answer(send, request, 415, "Unsupported Media Type")
            return
        EVENTS_IN.labels("sip").inc()
        sender = messages.uri_user(request.header("from"))
        registration = self.registrations.get(sender, time.time())
        if registration is not None and registration.host != peer[0]:
            # Another host using a registered device's id: not that device (the port may
            # differ, a device's MESSAGEs need not come from the port it registered from).
            registration = None
        if registration is None and self._settings.sip_require_registration:
            await self._dead_letter(data, f"device {sender[:64]!r} is not registered", peer)
            self._answer(send, request, 403, "Forbidden (not registered)")
            return
        if registration is not None and request.method == "NOTIFY":
            state = (request.header("subscription-state") or "").lower()
            if state.startswith("terminated"):
                registration.subscription = None  # subscribed again at its next REGISTER
            if not request.body.strip():
                self._answer(send, request, 200)  # a state change without an alarm
                return
        try:
            command = manscdp.parse(request.body)
            if command.cmd_type == "Catalog" and registration is not None:
                await self._catalog(request, command, registration, send)
                return
            if command.cmd_type == "Alarm":
                event = manscdp.to_alarm(command)
            elif command.cmd_type == "Keepalive":
                event = manscdp.to_keepalive(command, datetime.now(UTC))
            else:
                raise manscdp.ManscdpError(f"unsupported CmdType {command.cmd_type[:32]!r}")
        except manscdp.ManscdpError as exc:
            await self._dead_letter(data, f"MANSCDP: {exc}", peer)
            self._answer(send, request, 400, f"Bad Request ({exc})")
            return
        if registration is not None:
            event = await self._of_registration(event, registration)
        try:
            await self._publish_event(event)
        except Exception as exc:
            log.warning("cannot publish %s from %s: %r", event.kind, event.device_id, exc)
            self._answer(send, request, 503, "Service Unavailable")
            return
        self._answer(send, request, 200)
        if event.kind is not CameraAlarmKind.KEEPALIVE and request.method == "MESSAGE":
            log.info("alarm %s from device %s (%s)", event.kind, event.device_id, transport)
            self._send(
                send,
                messages.message_request(
                    platform_id=self._platform_id,
                    local=self._local,
                    device_id=command.device_id,
                    remote=peer,
                    transport=transport,
                    content=manscdp.alarm_response(command),
                ),
                "MESSAGE-out",
            )

    async def _catalog(
        self, request: SipMessage, command: manscdp.Command, registration: Registration, send: Send
    ) -> None:
        channels = queries.catalog_channels(command)  # ManscdpError: answered 400 by the caller
        try:
            await asyncio.to_thread(self.directory.store_channels, registration, channels)
        except Exception as exc:
            log.warning("cannot store the catalog of %s: %r", registration.device_id, exc)
            self._answer(send, request, 503, "Service Unavailable")
            return
        log.info("catalog of %s: %d channels", registration.device_id, len(channels))
        self._answer(send, request, 200)

    async def _of_registration(self, event: CameraAlarm, registration: Registration) -> CameraAlarm:
        """The institution the registry gives the device, the keepalive timeout, and for an
        NVR's channel the room it watches."""
        update: dict[str, object] = {"institution_id": registration.institution_id}
        if event.kind is CameraAlarmKind.KEEPALIVE:
            update["offline_after"] = registration.offline_after
        elif event.device_id != registration.device_id:
            room = await asyncio.to_thread(
                self.directory.room_of, registration.device_id, event.device_id
            )
            if room:
                update["description"] = f"{room}：{event.description or ''}"[:2000]
        return event.model_copy(update=update)

    async def _publish_event(self, event: CameraAlarm) -> None:
        await asyncio.to_thread(
            self._publisher.publish_all,
            topics.CAMERA_ALARMS,
            [(event.device_id, event.model_dump_json().encode("utf-8"))],
        )

    async def too_large(self, head: bytes, peer: tuple[str, int], send: Send) -> None:
        reason = f"message over {MAX_MESSAGE_BYTES} bytes"
        await self._dead_letter(head, f"SIP 513: {reason} (headers kept)", peer)
        bare = _lenient(head)
        if bare is not None:
            self._answer(send, bare, 513, "Message Too Large")

    def _answer(
        self, send: Send, request: SipMessage, status: int, reason: str | None = None
    ) -> None:
        self._send(send, messages.response(request, status, reason), request.method, status)

    @staticmethod
    def _send(send: Send, message: SipMessage, method: str, status: int = 200) -> None:
        SIP_REQUESTS.labels(method[:16], str(status)).inc()
        send(message.encode())

    async def _dead_letter(self, data: bytes, reason: str, peer: tuple[str, int]) -> None:
        letter = DeadLetter.of(data, reason, DeadLetterSource(channel=f"sip:{peer[0]}"))
        try:
            await asyncio.to_thread(
                self._publisher.publish_all,
                topics.DEAD_LETTER,
                [(f"sip:{peer[0]}", letter.model_dump_json().encode("utf-8"))],
            )
            DEAD_LETTERED.labels("sip").inc()
        except Exception as exc:
            log.error("cannot dead-letter a rejected SIP message (%s): %r", reason, exc)
        log.warning("rejected SIP message from %s:%s: %s", *peer, reason)


def _lenient(data: bytes) -> SipMessage | None:
    """Enough of a broken message to answer it: the start line and the dialog headers."""
    head = data[:MAX_HEADER_BYTES].split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    message = SipMessage(lines[0].strip())
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            message.headers.append((messages.COMPACT.get(key, key), value.strip()))
    required = ("via", "from", "to", "call-id", "cseq")
    if not message.start_line.endswith("SIP/2.0") or any(
        message.header(h) is None for h in required
    ):
        return None
    return message
