"""Supervising units: city departments, the leading group office, towns, streets and zones."""

from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    HEALTH_BODY = "health-body"
    OFFICE = "office"
    TOWN = "town"
    STREET = "street"
    ZONE = "zone"

    @property
    def is_jurisdiction(self) -> bool:
        return self in (UnitKind.TOWN, UnitKind.STREET, UnitKind.ZONE)


class UnitBase(SQLModel):
    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=128)
    kind: UnitKind = Field(sa_type=String(16))


class Unit(UnitBase, table=True):
    __tablename__ = "units"


class UnitPublic(UnitBase):
    pass
