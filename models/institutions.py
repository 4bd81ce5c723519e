"""Childcare institutions as known to the registry (registration and filing)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel


class Registrar(StrEnum):
    CIVIL = "civil"  # non-profit
    SAMR = "samr"  # for-profit
    STAFFING = "staffing"  # run on state assets


class Institution(SQLModel, table=True):
    __tablename__ = "institutions"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200, index=True)
    town: str = Field(foreign_key="units.code", max_length=64, index=True)
    registrar: Registrar = Field(sa_type=String(16))
    registered_at: datetime
