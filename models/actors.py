"""Who does something: a person, in a role, for a unit."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    OPERATOR = "operator"  # hotline operator: intake and follow-up
    TOWN = "town"  # a town, street or zone office
    DEPARTMENT = "department"  # a city department
    LEADING_OFFICE = "leading-office"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"


class Actor(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Role
    unit: str | None = Field(default=None, max_length=64)

    @property
    def label(self) -> str:
        return f"{self.role}:{self.unit}:{self.name}" if self.unit else f"{self.role}:{self.name}"


SYSTEM = Actor(name="case-workflow", role=Role.SYSTEM)
