"""People who use tuoyu, with their role and unit. Systems authenticate with bearer tokens,
people in the web pages with a password and a session cookie."""

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
    # Argon2id hash (PHC string, about 100 characters); none: the user cannot sign in.
    password_hash: str | None = Field(default=None, max_length=255)


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the session id is kept: a copy of the table
    signs nobody in."""

    __tablename__ = "web_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=36, index=True)
    created_at: datetime
    expires_at: datetime = Field(index=True)


class UserPublic(UserBase):
    id: str


class SignInFailure(SQLModel, table=True):
    """A wrong password (or unknown name) on the sign-in page: counted per name for the
    attempt limit, removed when the name signs in or when it is older than the window."""

    __tablename__ = "signin_failures"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    failed_at: datetime = Field(index=True)
