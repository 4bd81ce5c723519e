"""Who may read what. Towns see their jurisdiction's cases, departments the cases they lead
or work on, and the cases whose joint punishment carries their measures (they acknowledge and
lift them on the case page); operators, the leading group office, auditors and administrators
see all."""

from __future__ import annotations

from functools import cache

from sqlmodel import Session, select

from api.errors import ApiError
from infra.deadlines import load_enforcement
from infra.settings import get_settings
from models.actors import Actor, Role
from models.cases import Case, CaseAssignment, ComplainantContact
from models.credit import CreditEntry
from models.institutions import Institution
from workflows.cases import routing

SEE_ALL = (Role.OPERATOR, Role.LEADING_OFFICE, Role.AUDITOR, Role.ADMIN)
BAN_REGISTRY_UNITS = ("health", "psb")


def sees_all(actor: Actor) -> bool:
    return actor.role in SEE_ALL


def may_see(session: Session, actor: Actor, case: Case) -> bool:
    if sees_all(actor):
        return True
    if actor.unit is None:
        return False
    if routing.answerable(actor.unit, case.town, case.category):
        return True
    assigned = session.exec(
        select(CaseAssignment.unit)
        .where(CaseAssignment.case_id == case.id)
        .where(CaseAssignment.unit == actor.unit)
    ).first()
    if assigned is not None:
        return True
    if actor.role is Role.DEPARTMENT and actor.unit in measure_departments():
        entry = session.exec(select(CreditEntry.id).where(CreditEntry.case_id == case.id)).first()
        return entry is not None
    return False


@cache
def measure_departments() -> frozenset[str]:
    """The member departments that apply joint-punishment measures (enforcement.toml)."""
    policy = load_enforcement(get_settings().enforcement_file)
    return frozenset(m.department for m in policy.measures)


def may_see_complainant(
    session: Session, actor: Actor, case: Case, contact: ComplainantContact | None
) -> bool:
    """The operator who took the call, and the units assigned to the case (handler,
    collaborators, assisting units). Not the leading office, auditors or other operators.
    A confidential complaint (保密): the hotline centre (every operator) calls back; the
    handling units never see the contact."""
    if actor.role is Role.OPERATOR:
        if case.confidential:
            return contact is not None
        return contact is not None and contact.taken_by == actor.name
    if case.confidential:
        return False
    if actor.role not in (Role.TOWN, Role.DEPARTMENT) or actor.unit is None:
        return False
    assigned = session.exec(
        select(CaseAssignment.unit)
        .where(CaseAssignment.case_id == case.id)
        .where(CaseAssignment.unit == actor.unit)
    ).first()
    return assigned is not None


def case_for(session: Session, actor: Actor, case_id: str) -> Case:
    """The case if this actor may see it; 404 when there is none, 403 when it is not theirs."""
    case = session.get(Case, case_id)
    if case is None:
        raise ApiError(
            404, "case_not_found", "未找到该案件；如刚刚提交，请稍后再查询。", {"case_id": case_id}
        )
    if not may_see(session, actor, case):
        raise ApiError(403, "forbidden", "无权查看该案件。")
    return case


def led_categories(unit: str | None) -> list[str]:
    """The categories a city department leads: their cases are in its list as they are
    readable by it (`may_see`)."""
    if unit is None:
        return []
    return routing.led_by(unit)


def inbox_unit(actor: Actor, requested: str | None) -> str | None:
    """Towns and departments see their own unit's inbox only."""
    if sees_all(actor):
        return requested
    if requested is not None and requested != actor.unit:
        raise ApiError(403, "forbidden", "只能查看本单位的案件。")
    return actor.unit


def may_read_bans(actor: Actor) -> bool:
    return actor.role in (Role.LEADING_OFFICE, Role.AUDITOR, Role.ADMIN) or (
        actor.role is Role.DEPARTMENT and actor.unit in BAN_REGISTRY_UNITS
    )


# Integrity files name banned persons and carry case findings: the full file only for these.
FULL_INTEGRITY_UNITS = ("health",)
REGISTRARS = ("civil", "samr", "staffing")
STATISTICS_UNITS = ("health",)


def full_integrity(actor: Actor) -> bool:
    return actor.role in (Role.LEADING_OFFICE, Role.AUDITOR, Role.ADMIN) or (
        actor.role is Role.DEPARTMENT and actor.unit in FULL_INTEGRITY_UNITS
    )


def town_of_institution_key(session: Session, key: str) -> str | None:
    """The town of `id:<registry id>` (from the registry) or `name:<town>:<name>`."""
    kind, _, rest = key.partition(":")
    if kind == "id":
        institution = session.get(Institution, rest)
        return institution.town if institution else None
    if kind == "name":
        return rest.partition(":")[0] or None
    return None


def check_integrity_reader(session: Session, actor: Actor, key: str) -> None:
    """A town reads only its own institutions' files; everyone else reads any (whole or
    public view, see `full_integrity`)."""
    if actor.role is Role.TOWN and town_of_institution_key(session, key) != actor.unit:
        raise ApiError(403, "forbidden", "只能查看本辖区机构的诚信档案。")


def staff_checker(actor: Actor) -> bool:
    """Who may check people against the ban registry at all: Health, the registrars, towns."""
    if actor.role is Role.TOWN:
        return actor.unit is not None
    return actor.role is Role.DEPARTMENT and actor.unit in (*FULL_INTEGRITY_UNITS, *REGISTRARS)


def check_staff_jurisdiction(session: Session, actor: Actor, institution_id: str | None) -> None:
    """A check or hire at an institution: only its registrar department, its town, Health."""
    if actor.unit == "health" and actor.role is Role.DEPARTMENT:
        return
    institution = session.get(Institution, institution_id) if institution_id else None
    session.rollback()
    if institution is None:
        return  # a check without (or at an unregistered) institution records no hire
    mine = (actor.role is Role.TOWN and institution.town == actor.unit) or (
        actor.role is Role.DEPARTMENT and institution.registrar == actor.unit
    )
    if not mine:
        raise ApiError(
            403,
            "forbidden",
            "该机构不在本单位管辖范围内，不能为其核查或登记从业人员。",
            {"institution_id": institution_id},
        )


def statistics_scope(actor: Actor, requested: str | None) -> tuple[str | None, str | None]:
    """(town whose cases count, unit whose figures show) for this actor: everything for the
    leading office, auditors, administrators and Health; a town or department its own only."""
    if actor.role in (Role.LEADING_OFFICE, Role.AUDITOR, Role.ADMIN) or (
        actor.role is Role.DEPARTMENT and actor.unit in STATISTICS_UNITS
    ):
        return None, requested
    if requested is not None and requested != actor.unit:
        raise ApiError(403, "forbidden", "只能查看本单位的统计数据。")
    if actor.role is Role.TOWN:
        return actor.unit, actor.unit
    return None, actor.unit or ""
