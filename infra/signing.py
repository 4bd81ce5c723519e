"""The audit trail's signing key (Ed25519) and checkpoint signatures.

The private key lives in `DATA_DIR/secrets/audit-signing.key` (PEM, mode 0600), made once
and shared by every process there; `tuoyu audit public-key` prints the public half for
anyone who verifies an export.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infra.settings import Settings


def message(seq: int, chain_hash: str) -> bytes:
    return f"tuoyu-audit-checkpoint:{seq}:{chain_hash}".encode()


class AuditSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = raw.hex()

    def sign(self, seq: int, chain_hash: str) -> str:
        return self._key.sign(message(seq, chain_hash)).hex()


def signature_valid(public_key: str, seq: int, chain_hash: str, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), message(seq, chain_hash)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


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
