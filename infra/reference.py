"""Reference data from the editable files in `infra/data/`: units and the complaint catalogue."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel
from sqlmodel import Session

from models.cases import Priority
from models.complaints import Category
from models.inspections import FindingCode, Severity
from models.units import Unit, UnitKind

DATA_DIR = Path(__file__).parent / "data"


class CategoryInfo(BaseModel):
    name: str
    priority: Priority
    lead: list[str]


class FindingInfo(BaseModel):
    name: str
    severity: Severity
    category: Category
    rectify_days: int


@cache
def findings() -> dict[FindingCode, FindingInfo]:
    raw = tomllib.loads((DATA_DIR / "findings.toml").read_text("utf-8"))["findings"]
    found = {FindingCode(code): FindingInfo.model_validate(info) for code, info in raw.items()}
    missing = set(FindingCode) - set(found)
    if missing:
        raise ValueError(f"findings.toml lacks finding codes: {sorted(missing)}")
    return found


@cache
def units() -> dict[str, Unit]:
    raw = tomllib.loads((DATA_DIR / "units.toml").read_text("utf-8"))
    return {
        u["code"]: Unit(code=u["code"], name=u["name"], kind=UnitKind(u["kind"]))
        for u in raw["unit"]
    }


@cache
def catalogue() -> dict[Category, CategoryInfo]:
    raw = tomllib.loads((DATA_DIR / "catalogue.toml").read_text("utf-8"))["categories"]
    found = {Category(code): CategoryInfo.model_validate(info) for code, info in raw.items()}
    missing = set(Category) - set(found)
    if missing:
        raise ValueError(f"catalogue.toml lacks categories: {sorted(missing)}")
    leaderless = sorted(code for code, info in found.items() if not info.lead)
    if leaderless:
        raise ValueError(f"catalogue.toml: categories without a lead department: {leaderless}")
    unknown = {u for info in found.values() for u in info.lead} - set(units())
    if unknown:
        raise ValueError(f"catalogue.toml names unknown units: {sorted(unknown)}")
    return found


def is_jurisdiction(code: str) -> bool:
    unit = units().get(code)
    return unit is not None and unit.kind.is_jurisdiction


def load_units(session: Session) -> int:
    """Upsert every unit of the data file; returns how many there are."""
    for unit in units().values():
        session.merge(Unit.model_validate(unit))
    session.commit()
    return len(units())
