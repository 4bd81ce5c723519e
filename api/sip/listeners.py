"""The SIP gateway's listeners: UDP datagrams and TCP streams (messages framed by their
Content-Length), both handed to one `Gateway`."""

from __future__ import annotations

import asyncio
import re

from api.sip.gateway import Gateway
from api.sip.messages import MAX_HEADER_BYTES, MAX_MESSAGE_BYTES

_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)


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
