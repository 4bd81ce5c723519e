"""SIP digest authentication of REGISTER (RFC 3261 section 22, RFC 2617, RFC 7616 and
RFC 8760): MD5, which GB/T 28181 requires, and SHA-256 for devices whose registry entry
has a SHA-256 HA1; qop=auth, or none for older devices.

Nonces are stateless: the issue time and an HMAC over it and the device id, so any number
of challenges costs no memory and a nonce is refused after `ttl` seconds (answered 401
with `stale=true`, and the device retries at once). Replays within that time are caught by
the nonce count (`nc` must grow), kept for at most `MAX_TRACKED` nonces.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

MD5 = "MD5"
SHA256 = "SHA-256"
HASHES = {MD5: hashlib.md5, SHA256: hashlib.sha256}
MAX_TRACKED = 4096
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,|$)')


def h(algorithm: str, text: str) -> str:
    return HASHES[algorithm](text.encode("utf-8")).hexdigest()


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """What the registry stores for a device: H(username:realm:password)."""
    return h(algorithm, f"{username}:{realm}:{password}")


def parse_params(header: str) -> dict[str, str]:
    """`Digest a="x", b=y` as {a: x, b: y}; raises ValueError if it is not Digest."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"not a Digest credential: {scheme[:20]!r}")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            raise ValueError("malformed Digest parameters")
        name, quoted, bare = match.groups()
        params[name.lower()] = quoted.replace('\\"', '"') if quoted is not None else bare
        pos = match.end()
    return params


def expected_response(algorithm: str, ha1_hex: str, method: str, params: dict[str, str]) -> str:
    ha2 = h(algorithm, f"{method}:{params.get('uri', '')}")
    qop = params.get("qop")
    if qop:
        tail = f"{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:{qop}"
    else:
        tail = params["nonce"]
    return h(algorithm, f"{ha1_hex}:{tail}:{ha2}")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stale: bool = False  # a good response to an expired nonce: challenge again
    reason: str = ""


class Digest:
    def __init__(self, realm: str, ttl: float, secret: bytes | None = None) -> None:
        self.realm = realm
        self.ttl = ttl
        self._secret = secret or secrets.token_bytes(32)
        self._counts: OrderedDict[str, int] = OrderedDict()

    def nonce(self, device_id: str, now: float | None = None) -> str:
        # The issue time (ms, hex) and a random salt, so that two challenges never share
        # a nonce (and its nonce count), then the MAC over both.
        issued = f"{int((now if now is not None else time.time()) * 1000):x}"
        issued += f"-{secrets.token_hex(4)}"
        return f"{issued}.{self._mac(issued, device_id)}"

    def _mac(self, issued: str, device_id: str) -> str:
        message = f"{issued}:{device_id}:{self.realm}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def challenges(self, device_id: str, algorithms: list[str], stale: bool = False) -> list[str]:
        """One WWW-Authenticate value per algorithm, in order of preference (RFC 8760)."""
        nonce = self.nonce(device_id)
        extra = ", stale=true" if stale else ""
        return [
            f'Digest realm="{self.realm}", nonce="{nonce}", qop="auth", algorithm={a}{extra}'
            for a in algorithms
        ]

    def verify(
        self,
        params: dict[str, str],
        *,
        device_id: str,
        method: str,
        secrets_by_algorithm: dict[str, str],
        now: float | None = None,
    ) -> Verdict:
        now = now if now is not None else time.time()
        algorithm = params.get("algorithm", MD5).upper()
        if algorithm not in HASHES:
            return Verdict(False, reason=f"unsupported algorithm {algorithm[:16]!r}")
        if params.get("username") != device_id:
            return Verdict(False, reason="username is not the device id")
        if params.get("realm") != self.realm:
            return Verdict(False, reason="wrong realm")
        nonce = params.get("nonce", "")
        issued, _, mac = nonce.partition(".")
        try:
            issued_at = int(issued.split("-")[0], 16) / 1000
        except ValueError:
            return Verdict(False, reason="not a nonce of this platform")
        if not hmac.compare_digest(mac, self._mac(issued, device_id)):
            return Verdict(False, reason="not a nonce of this platform")
        qop = params.get("qop")
        if qop not in (None, "auth"):
            return Verdict(False, reason=f"unsupported qop {qop[:16]!r}")
        if qop and not re.fullmatch(r"[0-9a-fA-F]{8}", params.get("nc", "")):
            return Verdict(False, reason="qop=auth needs an 8-digit hex nc")
        known = secrets_by_algorithm.get(algorithm)
        if known is None or "response" not in params:
            return Verdict(False, reason=f"no {algorithm} secret for this device")
        expected = expected_response(algorithm, known, method, params)
        if not hmac.compare_digest(params["response"].lower(), expected):
            return Verdict(False, reason="wrong password")
        if now - issued_at > self.ttl or issued_at > now + 60:
            return Verdict(False, stale=True, reason="nonce expired")
        if qop:
            count = int(params["nc"], 16)
            if count <= self._counts.get(nonce, 0):
                return Verdict(False, reason="nonce count replayed")
            self._counts[nonce] = count
            self._counts.move_to_end(nonce)
            while len(self._counts) > MAX_TRACKED:
                self._counts.popitem(last=False)
        return Verdict(True)
