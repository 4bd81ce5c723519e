"""The audit trail's signing key (Ed25519), signed tree heads, and the pinned public key.

The private key lives in `DATA_DIR/secrets/audit-signing.key` (PEM, mode 0600), made once
and shared by every process there. Verifying never trusts that file: whoever can replace it
can re-sign a rewritten trail. The operator pins the public half at install
(`tuoyu audit pin-key --out PATH` outside the data dir, then `TUOYU_AUDIT_PUBLIC_KEY_FILE`,
or the hex in `TUOYU_AUDIT_PUBLIC_KEY`); only pinned keys verify.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infra.settings import Settings

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def message(seq: int, chain_hash: str) -> bytes:
    """What checkpoints signed before the Merkle log (they have no root hash)."""
    return f"tuoyu-audit-checkpoint:{seq}:{chain_hash}".encode()


def tree_head_message(size: int, root_hash: str, chain_hash: str, timestamp: datetime) -> bytes:
    """A signed tree head: size, Merkle root, the chain's hash at that size, and when (ms)."""
    moment = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp
    millis = (moment - EPOCH) // timedelta(milliseconds=1)
    return f"tuoyu-audit-sth:v1:{size}:{root_hash}:{chain_hash}:{millis}".encode()


def key_id(public_key: str) -> str:
    """SHA-256 of the raw public key, hex: the fingerprint operators compare."""
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()


class AuditSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = raw.hex()

        self.key_id = key_id(self.public_key)

    def sign(self, seq: int, chain_hash: str) -> str:
        return self._key.sign(message(seq, chain_hash)).hex()

    def sign_bytes(self, data: bytes) -> str:
        return self._key.sign(data).hex()


def bytes_signed(public_key: str, data: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), data
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_valid(public_key: str, seq: int, chain_hash: str, signature: str) -> bool:
    return bytes_signed(public_key, message(seq, chain_hash), signature)


class PinError(Exception):
    """No usable pinned key: verifying must not say "intact"."""


def pinned_keys(settings: Settings) -> set[str]:
    """The operator's pinned public keys (hex; several while a key is being rotated), from
    `audit_public_key` and the file `audit_public_key_file` (one per line, `#` comments). A
    file inside the data dir is refused: it would sit next to what it is meant to check."""
    keys: set[str] = set()
    if settings.audit_public_key:
        keys.update(k.strip().lower() for k in settings.audit_public_key.split(","))
    path = settings.audit_public_key_file
    if path is not None:
        if path.resolve().is_relative_to(settings.data_dir.resolve()):
            raise PinError(f"the pinned key file {path} is inside the data dir; keep it outside")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise PinError(f"the pinned key file {path} cannot be read: {exc}") from exc
        keys.update(ln.split("#")[0].strip().lower() for ln in lines)
    keys.discard("")
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key))
        except ValueError as exc:
            raise PinError(f"pinned key {key[:16]}… is not an Ed25519 public key (hex)") from exc
    if not keys:
        raise PinError(
            "no pinned audit public key: run `tuoyu audit pin-key --out PATH` (outside the "
            "data dir) at install and set TUOYU_AUDIT_PUBLIC_KEY_FILE=PATH, or set "
            "TUOYU_AUDIT_PUBLIC_KEY to the hex key"
        )
    return keys


def write_pin(settings: Settings, path: Path) -> AuditSigner:
    """Write the signing key's public half to `path` (outside the data dir) for pinning."""
    if path.resolve().is_relative_to(settings.data_dir.resolve()):
        raise PinError(f"{path} is inside the data dir; pin the key somewhere the data is not")
    signer = load_signer(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# tuoyu audit public key, key id {signer.key_id}\n{signer.public_key}\n")
    return signer


def key_file(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / "audit-signing.key"


def load_signer(settings: Settings) -> AuditSigner:
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return AuditSigner(key)
