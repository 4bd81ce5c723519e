"""Users and their bearer tokens. A token is random, shown once, and stored only as its
SHA-256 (it is long and random, so no key or slow hash is needed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

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
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(
        id=str(uuid.uuid4()),
        name=name,
        role=role,
        unit=unit,
        created_at=datetime.now(UTC),
        token_hash=token_hash(token),
    )
    session.add(user)
    session.commit()
    return user, token


def actor_for_token(session: Session, token: str) -> Actor | None:
    user = session.exec(select(User).where(User.token_hash == token_hash(token))).first()
    if user is None or user.disabled:
        return None
    return Actor(name=user.name, role=user.role, unit=user.unit)
