"""Which unit a complaint goes to, and which units answer for a case: the plan's routing
(section 四 of 凯府办函〔2021〕54号, the catalogue in infra/data/catalogue.toml) as pure rules.

Shared by the `open_case` activity (which routes a new case) and the API (which lets the units
routing names read the case). No I/O beyond the reference data read once per process.
"""

from __future__ import annotations

from infra import reference
from models.cases import Level, Priority
from models.complaints import Category
from models.workflow_io import Routing


def route(town: str, category: reference.CategoryInfo, urgent: bool = False) -> Routing:
    """Non-critical cases go to the town first; critical ones (by category, or marked urgent
    like a first-priority alarm) to the city lead at once, with the town and the other leads
    alongside."""
    if urgent or category.priority is Priority.CRITICAL:
        return Routing(
            priority=Priority.CRITICAL,
            town=town,
            lead=category.lead,
            handler=category.lead[0],
            level=Level.CITY,
            collaborators=[town, *category.lead[1:]],
        )
    return Routing(
        priority=category.priority, town=town, lead=category.lead, handler=town, level=Level.TOWN
    )


def answerable(unit: str, town: str, category: Category) -> bool:
    """The case's town and the category's lead departments answer for it whoever handles it
    now (the ladder may bring it to either); other units only while assigned to it."""
    return unit == town or unit in reference.catalogue()[category].lead


def led_by(unit: str) -> list[str]:
    """The categories a city department leads."""
    return [code for code, info in reference.catalogue().items() if unit in info.lead]
