"""SIP messages (RFC 3261), as much as a GB/T 28181 platform needs: parse a request or a
response, answer a request, build a MESSAGE."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
# Compact header forms (RFC 3261 section 7.3.3).
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    423: "Interval Too Brief",
    500: "Server Internal Error",
    503: "Service Unavailable",
    513: "Message Too Large",
}


class SipError(ValueError):
    """A message that cannot be handled; `status` is the response code to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class SipMessage:
    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return not self.start_line.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        return self.start_line.split(" ", 1)[0].upper() if self.is_request else ""

    @property
    def status(self) -> int:
        return int(self.start_line.split(" ", 2)[1]) if not self.is_request else 0

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name.lower()]

    def encode(self) -> bytes:
        lines = [self.start_line]
        lines += [f"{_display(n)}: {v}" for n, v in self.headers if n != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


_SPELLED = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "x-gb-ver": "X-GB-Ver",
}


def _display(name: str) -> str:
    return _SPELLED.get(name) or name.title()


def header_end(data: bytes) -> int:
    """Where the header section ends (index after the blank line), or -1."""
    end = data.find(b"\r\n\r\n")
    return end + 4 if end >= 0 else -1


def parse(data: bytes) -> SipMessage:
    """Parse one whole message. Raises SipError(400) for anything malformed."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipError(513, f"message over {MAX_MESSAGE_BYTES} bytes")
    end = header_end(data)
    if end < 0:
        raise SipError(400, "no blank line after the headers")
    try:
        head = data[: end - 4].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipError(400, "headers are not UTF-8") from exc
    lines = head.split("\r\n")
    start = lines[0].strip()
    parts = start.split(" ")
    if start.startswith("SIP/2.0 "):
        if len(parts) < 2 or not (parts[1].isascii() and parts[1].isdigit()):
            raise SipError(400, f"bad status line: {start[:80]!r}")
    elif len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
        raise SipError(400, f"bad request line: {start[:80]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise SipError(400, f"bad header line: {line[:80]!r}")
        key = name.strip().lower()
        headers.append((COMPACT.get(key, key), value.strip()))
    message = SipMessage(start, headers, b"")
    for required in ("via", "from", "to", "call-id", "cseq"):
        if message.header(required) is None:
            raise SipError(400, f"missing {required} header")
    length_text = message.header("content-length")
    body = data[end:]
    if length_text is not None:
        if not (length_text.isascii() and length_text.isdigit()):  # '¹'.isdigit() too
            raise SipError(400, f"bad Content-Length: {length_text[:20]!r}")
        length = int(length_text)
        if length > len(body):
            raise SipError(400, f"body shorter than Content-Length {length}")
        body = body[:length]
    message.body = body
    return message


def response(request: SipMessage, status: int, reason: str | None = None) -> SipMessage:
    """The response to `request`: Via, From, Call-ID and CSeq copied, a tag added to To."""
    to = request.header("to") or ""
    if ";tag=" not in to.lower():
        to = f"{to};tag={secrets.token_hex(6)}"
    headers = [("via", v) for v in request.all("via")]
    headers += [
        ("from", request.header("from") or ""),
        ("to", to),
        ("call-id", request.header("call-id") or ""),
        ("cseq", request.header("cseq") or ""),
        ("user-agent", "tuoyu-sip-gateway"),
    ]
    text = (reason or REASONS.get(status, "Error")).replace("\r", " ").replace("\n", " ")
    return SipMessage(f"SIP/2.0 {status} {text[:120]}", headers)


def message_request(
    *,
    platform_id: str,
    local: tuple[str, int],
    device_id: str,
    remote: tuple[str, int],
    transport: str,
    content: bytes,
    method: str = "MESSAGE",
    dialog: dict[str, str] | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> SipMessage:
    """A request from the platform to a device: a new dialog (MESSAGE, a first SUBSCRIBE),
    or within `dialog` (call-id, from-tag, to-tag, cseq) for a SUBSCRIBE refresh."""
    lhost, lport = local
    rhost, rport = remote
    branch = f"z9hG4bK{secrets.token_hex(8)}"
    dialog = dialog or {}
    from_tag = dialog.get("from-tag") or secrets.token_hex(6)
    to = f"<sip:{device_id}@{rhost}:{rport}>"
    if dialog.get("to-tag"):
        to += f";tag={dialog['to-tag']}"
    cseq = int(dialog.get("cseq", "0")) + 1
    return SipMessage(
        f"{method} sip:{device_id}@{rhost}:{rport} SIP/2.0",
        [
            ("via", f"SIP/2.0/{transport} {lhost}:{lport};rport;branch={branch}"),
            ("from", f"<sip:{platform_id}@{lhost}:{lport}>;tag={from_tag}"),
            ("to", to),
            ("call-id", dialog.get("call-id") or f"{secrets.token_hex(12)}@{lhost}"),
            ("cseq", f"{cseq} {method}"),
            ("max-forwards", "70"),
            ("user-agent", "tuoyu-sip-gateway"),
            *(extra or []),
            ("content-type", "Application/MANSCDP+xml"),
        ],
        content,
    )


def uri_user(header: str | None) -> str:
    """The user part of a From/To header's SIP URI (a GB/T 28181 device id), or ''."""
    if not header:
        return ""
    start = header.find("sip:")
    if start < 0:
        return ""
    user, at, _ = header[start + 4 :].partition("@")
    return user if at else ""


def tag_of(header: str | None) -> str:
    for param in (header or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "tag":
            return value.strip()
    return ""
