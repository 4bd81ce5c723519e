"""People in the staff registry and the ban registry.

An identity number (居民身份证号码) is personal data: it exists in clear text only in what a
client sends, and is replaced by a keyed hash (and a masked form for display) at the edge,
before it reaches a log, a topic, a workflow history or a table.

One canonical form for every number that enters: NFKC (full-width `５` becomes `5`), every
Unicode space removed (U+3000 included), `x` upper-cased, then exactly `[0-9]{17}[0-9X]` with
the GB 11643 check character. Anything else (Arabic-Indic `٥`, other scripts' digits that
NFKC leaves alone) is refused: hashed as written, such a spelling of a banned number would
hash differently and get through the ban check.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from models.bounds import Name

# GB 11643-1999: 17 digits and a check character.
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_CANONICAL = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


class IdentityNumberError(ValueError):
    """Not a valid identity number; the message is for the client, in Chinese."""


def canonical_id_number(text: str) -> str:
    """The one form of an identity number that is hashed, masked and compared."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch) == "Zs"))
    folded = folded.upper()
    if not _CANONICAL.fullmatch(folded):
        raise IdentityNumberError(
            "身份证号码应为18位：前17位为数字0-9，最后一位为数字或X（不接受其他文字的数字）"
        )
    total = sum(int(d) * w for d, w in zip(folded[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != folded[17]:
        raise IdentityNumberError("身份证号码校验位不正确")
    return folded


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-character identity number, or None."""
    try:
        canonical_id_number(value)
    except IdentityNumberError as exc:
        return str(exc)
    return None


class PersonIdentity(BaseModel):
    """A person as a client names them, in clear text; never stored or logged as such."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: SecretStr = Field(description="18-character resident identity number")
    name: Name = Field(min_length=1, max_length=64)

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: SecretStr) -> SecretStr:
        return SecretStr(canonical_id_number(value.get_secret_value()))


class PersonRef(BaseModel):
    """A person as the system keeps them: keyed hash, masked number, name."""

    id_hash: str = Field(min_length=64, max_length=64, description="HMAC-SHA256, hex")
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=64)
