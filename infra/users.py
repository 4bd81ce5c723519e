"""Users and their bearer tokens. A token is random, shown once, and stored only as its
SHA-256 (it is long and random, so no key or slow hash is needed). A token works for the
configured lifetime (`TUOYU_TOKEN_TTL`) from when it was issued; `rotate_token` issues a
new one and the old one stops working; a disabled user's token never works again."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from infra import reference
from models.actors import Actor, Role
from models.units import UnitKind
from models.users import User

TOKEN_PREFIX = "ty_"
UNIT_KINDS = {
    Role.TOWN: {UnitKind.TOWN, UnitKind.STREET, UnitKind.ZONE},
    Role.DEPARTMENT: {UnitKind.DEPARTMENT, UnitKind.HEALTH_BODY},
    Role.LEADING_OFFICE: {UnitKind.OFFICE},
}


class UserError(ValueError):
    pass


class TokenRefused(Exception):
    """Why a token does not authenticate; `message` is for the client, in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: Role, unit: str | None) -> tuple[User, str]:
    """Create a user; returns it and its token (not stored anywhere in clear)."""
    if role is Role.SYSTEM:
        raise UserError("the system role is for tuoyu's own components")
    kinds = UNIT_KINDS.get(role)
    if kinds is not None:
        known = reference.units().get(unit or "")
        if known is None or known.kind not in kinds:
            raise UserError(f"role {role} needs --unit, a {', '.join(sorted(kinds))}")
    elif unit is not None and unit not in reference.units():
        raise UserError(f"unknown unit {unit!r}")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"user {name!r} exists")
    token = new_token()
    user = User(
        id=str(uuid.uuid4()),
        name=name,
        role=role,
        unit=unit,
        created_at=datetime.now(UTC),
        token_issued_at=datetime.now(UTC),
        token_hash=token_hash(token),
    )
    session.add(user)
    session.commit()
    return user, token


def _user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def disable_user(session: Session, name: str) -> User:
    """The user's token stops working at once; the user stays, for the audit trail."""
    user = _user(session, name)
    if not user.disabled:
        user.disabled, user.disabled_at = True, datetime.now(UTC)
        session.add(user)
        session.commit()
    session.refresh(user)
    return user


def rotate_token(session: Session, name: str) -> str:
    """A new token for the user, returned once; the old one stops working."""
    user = _user(session, name)
    if user.disabled:
        raise UserError(f"user {name!r} is disabled")
    token = new_token()
    user.token_hash, user.token_issued_at = token_hash(token), datetime.now(UTC)
    session.add(user)
    session.commit()
    return token


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def authenticate(
    session: Session, token: str, ttl: timedelta | None = None, now: datetime | None = None
) -> Actor:
    """The actor a token stands for, or `TokenRefused` saying why not."""
    user = session.exec(select(User).where(User.token_hash == token_hash(token))).first()
    if user is None:
        raise TokenRefused("invalid_token", "访问令牌无效，请检查或向管理员申请新令牌。")
    if user.disabled:
        raise TokenRefused("user_disabled", "该用户已被停用，令牌不再有效；如有疑问请联系管理员。")
    issued = user.token_issued_at or user.created_at
    if ttl is not None and _aware(issued) + ttl <= (now or datetime.now(UTC)):
        raise TokenRefused(
            "token_expired", "令牌已过期，请联系管理员用 tuoyu users rotate 换发新令牌。"
        )
    return Actor(name=user.name, role=user.role, unit=user.unit)


def actor_for_token(session: Session, token: str, ttl: timedelta | None = None) -> Actor | None:
    try:
        return authenticate(session, token, ttl)
    except TokenRefused:
        return None
