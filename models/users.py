"""People who use tuoyu, with their role and unit; they authenticate with bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.actors import Role


class UserBase(SQLModel):
    name: str = Field(max_length=64, unique=True)
    role: Role = Field(sa_type=String(24))
    unit: str | None = Field(default=None, max_length=64)
    created_at: datetime
    disabled: bool = False
    disabled_at: datetime | None = None
    # When the current token was issued; it works for `TUOYU_TOKEN_TTL` from then.
    token_issued_at: datetime | None = None


class User(UserBase, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=36)
    # SHA-256 of the token: the token itself is shown once, when the user is added.
    token_hash: str = Field(max_length=64, unique=True)


class UserPublic(UserBase):
    id: str
