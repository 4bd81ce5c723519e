"""Keyed hashing and masking of identity numbers: the one place they are seen in clear text.

HMAC-SHA256 with a secret key, so the hash cannot be reversed by hashing every possible
number (there are few enough to try). The key comes from `TUOYU_ID_HASH_KEY`, or is made once
in the data dir (`secrets/id-hash.key`, mode 0600) and shared by every process there.
Changing the key makes every stored hash unmatchable: back it up with the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from infra.settings import Settings
from models.people import PersonIdentity, PersonRef


def mask(id_number: str) -> str:
    return f"{id_number[:3]}{'*' * 11}{id_number[-4:]}"


class IdentityHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the identity hash key needs at least 32 bytes")
        self._key = key

    def hash(self, id_number: str) -> str:
        return hmac.new(self._key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def tracking_code(self, case_id: str) -> str:
        """The code a caller quotes with the case number to ask for progress without an
        account: derived, so nothing is stored, and unguessable without the key."""
        digest = hmac.new(self._key, f"tracking:{case_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:5]).decode("ascii")

    def ref(self, person: PersonIdentity) -> PersonRef:
        clear = person.id_number.get_secret_value()
        return PersonRef(id_hash=self.hash(clear), id_masked=mask(clear), name=person.name)


def key_file(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / "id-hash.key"


def load_hasher(settings: Settings) -> IdentityHasher:
    if settings.id_hash_key is not None:
        return IdentityHasher(settings.id_hash_key.get_secret_value().encode())
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return IdentityHasher(path.read_text().strip().encode())


_ID_IN_TEXT = re.compile(rb"(?<![0-9])([0-9]{3})[0-9]{11}([0-9]{3}[0-9Xx])(?![0-9])")


def redact(raw: bytes) -> bytes:
    """Mask every identity-number-like run in raw bytes (a rejected registry event goes to
    the dead-letter topic like this: the rest of it intact, the numbers masked)."""
    return _ID_IN_TEXT.sub(lambda m: m[1] + b"*" * 11 + m[2], raw)
