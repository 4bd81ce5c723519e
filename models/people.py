"""People in the staff registry and the ban registry.

An identity number (居民身份证号码) is personal data: it exists in clear text only in what a
client sends, and is replaced by a keyed hash (and a masked form for display) at the edge,
before it reaches a log, a topic, a workflow history or a table.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from models.bounds import Line

# GB 11643-1999: 17 digits and a check character.
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-character identity number, or None."""
    if len(value) != 18 or not value[:17].isdigit():
        return "身份证号码应为18位，前17位为数字"
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17].upper():
        return "身份证号码校验位不正确"
    return None


class PersonIdentity(BaseModel):
    """A person as a client names them, in clear text; never stored or logged as such."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: SecretStr = Field(description="18-character resident identity number")
    name: Line = Field(min_length=1, max_length=64)

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: SecretStr) -> SecretStr:
        clear = value.get_secret_value().strip().upper()
        problem = id_number_problem(clear)
        if problem:
            raise ValueError(problem)
        return SecretStr(clear)


class PersonRef(BaseModel):
    """A person as the system keeps them: keyed hash, masked number, name."""

    id_hash: str = Field(min_length=64, max_length=64, description="HMAC-SHA256, hex")
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=64)
