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
import sys
import unicodedata
from functools import cache
from pathlib import Path

from infra.settings import Settings
from models.people import IdentityNumberError, PersonIdentity, PersonRef, canonical_id_number

__all__ = ["IdentityHasher", "IdentityNumberError", "canonical_id_number", "redact"]


def mask(id_number: str) -> str:
    return f"{id_number[:3]}{'*' * 11}{id_number[-4:]}"


class IdentityHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the identity hash key needs at least 32 bytes")
        self._key = key

    def hash(self, id_number: str) -> str:
        """The keyed hash of the canonical form: every spelling of one number hashes alike,
        and one that is not a number raises `IdentityNumberError`."""
        canonical = canonical_id_number(id_number)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def keyed(self, value: str) -> str:
        """The keyed hash of any other value to match on without keeping it (a caller's
        phone number, prefixed by what it is): not an identity number, so not canonicalised."""
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

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


# A JSON escape (`\u0035`) is one character for what parses the text: read it as such.
_UNIT = re.compile(r"\\u[0-9a-fA-F]{4}|.", re.DOTALL)
_DIGIT, _CHECK_X, _SEPARATOR, _OTHER = "d", "x", "s", "o"


@cache
def _kind(ch: str) -> tuple[str, int]:
    """What a character is to an identity number, and how many digits it stands for:
    any Unicode decimal digit, anything NFKC folds to digits (full-width, circled), an X of
    any width, a space or a dash between digits."""
    if unicodedata.decimal(ch, None) is not None:
        return _DIGIT, 1
    folded = unicodedata.normalize("NFKC", ch)
    if folded and all("0" <= c <= "9" for c in folded):
        return _DIGIT, len(folded)
    if folded in ("X", "x"):
        return _CHECK_X, 1
    if ch.isspace() or unicodedata.category(ch) in ("Zs", "Pd", "Cf"):
        return _SEPARATOR, 0
    return _OTHER, 0


def _mask_run(units: list[str], kinds: list[tuple[str, int]]) -> list[str]:
    """Mask one run of digits (with separators, perhaps ending in an X): a lone run of exactly
    18 (17 and an X) like an identity number; a run with separators in it whenever it holds
    17 digits or more, since a number may hide inside it. The first 3 and last 4 stay."""
    digits = sum(n for k, n in kinds if k != _SEPARATOR)
    spaced = any(k == _SEPARATOR for k, _ in kinds)
    ends_x = kinds[-1][0] == _CHECK_X
    if not (digits >= 17 if spaced else digits == 18 or (digits == 19 and ends_x)):
        return units
    positions = [i for i, (k, _) in enumerate(kinds) if k != _SEPARATOR]
    keep = set(positions[:3] + positions[-4:])
    return [u if i in keep or i not in positions else "*" for i, u in enumerate(units)]


_MAYBE = ("Nd", "No", "Nl", "Zs", "Zl", "Zp", "Pd", "Cf", "Cc", "Lu", "Ll", "Lm")
# Blocks with nothing that can be part of a number (ideographs, Hangul syllables, private
# use, the unassigned planes): not scanned, which makes the scan 0.3 s instead of 2.7 s
# (measured on the 2-core test machine).
_SKIP = ((0x3400, 0x9FFF), (0xAC00, 0xD7FF), (0xE000, 0xF8FF), (0x20000, 0xDFFFF),
         (0xF0000, 0x10FFFF))  # fmt: skip
_ESCAPE = r"\\u[0-9a-fA-F]{4}"


def _char_class(codes: list[int]) -> str:
    ranges: list[str] = []
    start = prev = codes[0]
    for c in [*codes[1:], -1]:
        if c != prev + 1:
            ranges.append(f"\\U{start:08x}" + (f"-\\U{prev:08x}" if prev != start else ""))
            start = c
        prev = c
    return "[" + "".join(ranges) + "]"


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(stretches of characters that can be part of a number: digits of any kind, X,
    separators, JSON escapes; one digit-like unit). Only stretches with 17 digits or more
    need the character-by-character reading: masking 290 kB of JSON with 2,500 numbers took
    0.2 s instead of 1.8 s that way. Built once, on first use (0.4 s)."""
    maybe, digits = [], []
    code = 0
    for low, high in (*_SKIP, (sys.maxunicode + 1, sys.maxunicode + 1)):
        for c in range(code, low):
            ch = chr(c)
            if unicodedata.category(ch) in _MAYBE:
                kind = _kind(ch)[0]
                if kind != _OTHER:
                    maybe.append(c)
                if kind == _DIGIT:
                    digits.append(c)
        code = high + 1
    return (
        re.compile(f"(?:{_ESCAPE}|{_char_class(maybe)})+"),
        re.compile(f"{_ESCAPE}|{_char_class(digits)}"),
    )


def _redact_if_long(match: re.Match[str]) -> str:
    stretch = match[0]
    if len(stretch) < 17 or len(_patterns()[1].findall(stretch)) < 17:
        return stretch
    return _redact_stretch(stretch)


def redact_text(text: str) -> str:
    return _patterns()[0].sub(_redact_if_long, text)


def _redact_stretch(text: str) -> str:
    out: list[str] = []
    run: list[str] = []
    kinds: list[tuple[str, int]] = []

    def flush() -> None:
        while kinds and kinds[-1][0] == _SEPARATOR:  # trailing separators are not the run's
            trailing = run.pop()
            kinds.pop()
            out_tail.insert(0, trailing)
        out.extend(_mask_run(run, kinds) if run else [])
        out.extend(out_tail)
        run.clear()
        kinds.clear()
        out_tail.clear()

    out_tail: list[str] = []
    for match in _UNIT.finditer(text):
        unit = match[0]
        ch = chr(int(unit[2:], 16)) if len(unit) == 6 else unit
        kind = _kind(ch)
        if kind[0] == _DIGIT or (kind[0] == _SEPARATOR and run):
            run.append(unit)
            kinds.append(kind)
        elif kind[0] == _CHECK_X and run:
            run.append(unit)
            kinds.append(kind)
            flush()
        else:
            flush()
            out.append(unit)
    flush()
    return "".join(out)


def redact(raw: bytes) -> bytes:
    """Mask every identity-number-like run in raw bytes, in any spelling (a rejected registry
    event goes to the dead-letter topic like this: the rest of it intact, the numbers masked).
    Bytes that are not UTF-8 pass through unchanged around the runs."""
    text = raw.decode("utf-8", errors="surrogateescape")
    return redact_text(text).encode("utf-8", errors="surrogateescape")
