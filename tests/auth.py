"""Bearer tokens for tests: one user per (role, unit), made in the stack's database."""

from __future__ import annotations

import uuid

from infra.db import SessionFactory
from infra.users import add_user
from models.actors import Role


class Tokens:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._made: dict[tuple[str, str | None], str] = {}

    def token(self, role: str, unit: str | None = None) -> str:
        key = (role, unit)
        if key not in self._made:
            with self._sessions() as session:
                name = f"{role}-{unit or 'all'}-{uuid.uuid4().hex[:6]}"
                _, self._made[key] = add_user(session, name, Role(role), unit)
        return self._made[key]

    def new(self, role: str, unit: str | None = None) -> str:
        """A token of a user of its own (not shared with other tests)."""
        with self._sessions() as session:
            name = f"{role}-{unit or 'all'}-{uuid.uuid4().hex[:6]}"
            _, token = add_user(session, name, Role(role), unit)
        return token

    def headers(self, role: str, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, unit)}"}
