"""The SIP gateway: UDP and TCP listeners, one handler for both.

A MESSAGE with an Alarm or Keepalive is normalised and produced to `tuoyu.camera-alarms`
(key: device id) before it is answered 200 OK, so a device whose alarm was not stored gets an
error and sends it again. An alarm is then acknowledged the GB/T 28181 way, with the
platform's own MESSAGE carrying `<Response>...<Result>OK</Result>`. Anything unusable is
answered 4xx and dead-lettered with its original bytes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from api.sip import manscdp, messages
from api.sip.messages import MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, SipError, SipMessage
from infra.metrics import DEAD_LETTERED, EVENTS_IN, SIP_REQUESTS
from models import topics
from models.camera import CameraAlarmKind
from models.notifications import DeadLetter, DeadLetterSource

log = logging.getLogger(__name__)
Send = Callable[[bytes], None]
MANSCDP = "application/manscdp+xml"
_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)


class Publisher(Protocol):
    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


class Gateway:
    def __init__(self, publisher: Publisher, platform_id: str, local: tuple[str, int]) -> None:
        self._publisher = publisher
        self._platform_id = platform_id
        self._local = local

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
            return
        method = request.method
        if method == "ACK":
            return
        if method in ("REGISTER", "OPTIONS"):
            reply = messages.response(request, 200)
            if method == "REGISTER":
                reply.headers.append(("expires", request.header("expires") or "3600"))
            self._send(send, reply, method)
            return
        if method != "MESSAGE":
            reply = messages.response(request, 405)
            reply.headers.append(("allow", "MESSAGE, REGISTER, OPTIONS, ACK"))
            self._send(send, reply, method)
            return
        await self._message(request, data, peer, transport, send)

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
        try:
            command = manscdp.parse(request.body)
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
        try:
            await asyncio.to_thread(
                self._publisher.publish_all,
                topics.CAMERA_ALARMS,
                [(event.device_id, event.model_dump_json().encode("utf-8"))],
            )
        except Exception as exc:
            log.warning("cannot publish %s from %s: %r", event.kind, event.device_id, exc)
            self._answer(send, request, 503, "Service Unavailable")
            return
        self._answer(send, request, 200)
        if event.kind is not CameraAlarmKind.KEEPALIVE:
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


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        transport = self._transport
        assert transport is not None
        if not data.strip():
            return  # a CRLF keep-alive ping

        def send(payload: bytes) -> None:
            transport.sendto(payload, addr)

        task = asyncio.create_task(self._gateway.handle(data, addr, "UDP", send))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _tcp_connection(
    gateway: Gateway, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    peer = writer.get_extra_info("peername")[:2]
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                writer.write(b"SIP/2.0 513 Message Too Large\r\nContent-Length: 0\r\n\r\n")
                break
            head = head.lstrip(b"\r\n")  # CRLF keep-alive pings between messages
            if not head:
                continue
            match = _LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            if len(head) + length > MAX_MESSAGE_BYTES:
                await gateway.too_large(head, peer, writer.write)
                break
            body = await reader.readexactly(length) if length else b""
            await gateway.handle(head + body, peer, "TCP", writer.write)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(
    gateway: Gateway, host: str, port: int
) -> tuple[asyncio.BaseTransport, asyncio.Server]:
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(gateway), local_addr=(host, port))
    tcp = await asyncio.start_server(
        lambda r, w: _tcp_connection(gateway, r, w), host, port, limit=MAX_HEADER_BYTES
    )
    return udp, tcp
