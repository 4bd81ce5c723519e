"""Users for tests: one per (role, unit), made in the stack's database, each with a bearer
token (for API calls) and a password (for signing in to the web pages)."""

from __future__ import annotations

import secrets
import uuid

from infra.db import SessionFactory
from infra.passwords import set_password
from infra.users import add_user
from models.actors import Role


class Tokens:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._made: dict[tuple[str, str | None], tuple[str, str, str]] = {}

    def _add(self, role: str, unit: str | None) -> tuple[str, str, str]:
        name = f"{role}-{unit or 'all'}-{uuid.uuid4().hex[:6]}"
        password = secrets.token_urlsafe(12)
        with self._sessions() as session:
            _, token = add_user(session, name, Role(role), unit)
            set_password(session, name, password)
        return name, password, token

    def _user(self, role: str, unit: str | None) -> tuple[str, str, str]:
        key = (role, unit)
        if key not in self._made:
            self._made[key] = self._add(role, unit)
        return self._made[key]

    def token(self, role: str, unit: str | None = None) -> str:
        return self._user(role, unit)[2]

    def credentials(self, role: str, unit: str | None = None) -> tuple[str, str]:
        """Name and password of the same user as `token(role, unit)`."""
        name, password, _ = self._user(role, unit)
        return name, password

    def new(self, role: str, unit: str | None = None) -> str:
        """A token of a user of its own (not shared with other tests)."""
        return self._add(role, unit)[2]

    def new_credentials(self, role: str, unit: str | None = None) -> tuple[str, str]:
        name, password, _ = self._add(role, unit)
        return name, password

    def headers(self, role: str, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, unit)}"}
