"""A GB/T 28181 device's registration in Python, for tests that then send raw MESSAGEs:
REGISTER, the 401 challenge, REGISTER with digest credentials (computed here with hashlib,
independently of the gateway's code)."""

from __future__ import annotations

import hashlib
import re
import socket
import uuid

PASSWORD = "Kaili-12345678"  # a device's access password, as configured on the device
REALM = "5226010000"  # the default: the first ten digits of the platform id


def ha1(device: str, password: str = PASSWORD, realm: str = REALM, algo: str = "md5") -> str:
    return hashlib.new(algo, f"{device}:{realm}:{password}".encode()).hexdigest()


def secrets_of(device: str, password: str = PASSWORD, *, sha256: bool = False) -> dict[str, str]:
    """The registry event's fields for a device's password: its HA1s, never the password."""
    fields = {"sip_ha1": ha1(device, password)}
    if sha256:
        fields["sip_ha1_sha256"] = ha1(device, password, algo="sha256")
    return fields


def request(device: str, local: tuple[str, int], call_id: str, cseq: int, extra: str = "") -> bytes:
    host, port = local
    return (
        f"REGISTER sip:52260100002000000001@{REALM} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
        f"From: <sip:{device}@{REALM}>;tag=dev{cseq}\r\nTo: <sip:{device}@{REALM}>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:{device}@{host}:{port}>\r\nMax-Forwards: 70\r\n{extra}"
        "User-Agent: IP Camera\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def challenge(reply: bytes, algorithm: str = "MD5") -> dict[str, str]:
    for line in reply.decode().split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "www-authenticate" and f"algorithm={algorithm}" in value:
            return dict(re.findall(r'(\w+)="?([^",]+)"?', value))
    raise AssertionError(f"no {algorithm} challenge in {reply[:300]!r}")


def credentials(
    device: str, params: dict[str, str], password: str, algorithm: str = "MD5", nc: int = 1
) -> str:
    algo = "sha256" if algorithm == "SHA-256" else "md5"
    uri = f"sip:52260100002000000001@{REALM}"

    def h(text: str) -> str:
        return hashlib.new(algo, text.encode()).hexdigest()

    cnonce = uuid.uuid4().hex[:8]
    key = h(f"{device}:{params['realm']}:{password}")
    response = h(f"{key}:{params['nonce']}:{nc:08x}:{cnonce}:auth:{h(f'REGISTER:{uri}')}")
    return (
        f'Authorization: Digest username="{device}", realm="{params["realm"]}", '
        f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", '
        f'algorithm={algorithm}, cnonce="{cnonce}", qop=auth, nc={nc:08x}\r\n'
    )


def register(
    target: tuple[str, int],
    device: str,
    password: str = PASSWORD,
    *,
    expires: int = 3600,
    algorithm: str = "MD5",
    extra: str = "",
) -> tuple[bytes, bytes]:
    """(the challenge, the final answer) of one registration over UDP."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()
        call_id = f"{uuid.uuid4().hex}@127.0.0.1"
        head = f"Expires: {expires}\r\n{extra}"
        sock.sendto(request(device, local, call_id, 1, head), target)
        first = sock.recv(65536)
        assert first.startswith(b"SIP/2.0 401"), first[:300]
        auth = credentials(device, challenge(first, algorithm), password, algorithm)
        sock.sendto(request(device, local, call_id, 2, head + auth), target)
        return first, sock.recv(65536)
