"""Passwords and browser sessions of the web sign-in.

Passwords: Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3
passes, 4 lanes; about 60 ms per check on this machine), rehashed on sign-in when the
parameters change. Sessions: a random id in an HttpOnly cookie, stored only as its SHA-256
(it is long and random, like the bearer tokens), with an absolute expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from models.actors import Actor
from models.users import User, WebSession

MIN_LENGTH = 8
_hasher = PasswordHasher()
# Checked when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class PasswordError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def set_password(session: Session, name: str, password: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise PasswordError(f"no user {name!r}")
    user.password_hash = hash_password(password)
    session.add(user)
    # A new password ends every open session of the user.
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
    session.commit()
    return user


def check_password(session: Session, name: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.name == name)).first()
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.commit()
    return user


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The token the pages send back in a header: derived from the session id, so the server
    keeps nothing more, and useless without the (HttpOnly) session cookie."""
    return hmac.new(session_id.encode(), b"tuoyu-csrf", hashlib.sha256).hexdigest()


def start_session(session: Session, user: User, ttl: timedelta) -> tuple[str, WebSession]:
    now = datetime.now(UTC)
    session_id = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=session_hash(session_id), user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(row)
    # Expired sessions of anyone go when someone signs in: the table stays small.
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
    session.commit()
    return session_id, row


def end_session(session: Session, session_id: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.id_hash) == session_hash(session_id)))
    session.commit()


def actor_for_session(session: Session, session_id: str) -> Actor | None:
    row = session.get(WebSession, session_hash(session_id))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return Actor(name=user.name, role=user.role, unit=user.unit)
