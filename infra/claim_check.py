"""The claim-check store for dead letters too large for the broker.

A dead letter carries its original as base64 (4/3 of the bytes) plus its reason and source;
a 1 MB event makes a 1.4 MB letter, over the producer's `max_request_size` (1 MiB) and the
broker's `message.max.bytes`. Past `dead_letter_max_bytes` the original goes to a file named
by its SHA-256 under `<data dir>/claim-checks/` (mode 0600, written atomically), and the
letter carries the reference instead.

Files, not a table: the stream worker is the main writer, and it holds no database
connection by design (it must keep dead-lettering while the database is down). The data
directory is where the broker's log and the database live too, so it is backed up with them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from models.notifications import ClaimCheck, DeadLetter

FOLDER = "claim-checks"


class ClaimCheckStore:
    def __init__(self, data_dir: Path, max_bytes: int) -> None:
        self._root = data_dir
        self._max = max_bytes

    def put(self, original: bytes) -> ClaimCheck:
        digest = hashlib.sha256(original).hexdigest()
        location = f"{FOLDER}/{digest}"
        path = self._root / location
        if not path.exists():  # content-addressed: the same bytes are stored once
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(original)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        return ClaimCheck(sha256=digest, size=len(original), location=location)

    def get(self, check: ClaimCheck) -> bytes:
        return (self._root / check.location).read_bytes()

    def seal(self, letter: DeadLetter, force: bool = False) -> bytes:
        """The letter's bytes for the topic: as it is, or with its original claim-checked."""
        encoded = letter.model_dump_json().encode()
        if len(encoded) <= self._max and not force:
            return encoded
        check = self.put(letter.original)
        slim = letter.model_copy(update={"original_base64": "", "claim_check": check})
        return slim.model_dump_json().encode()
