"""Who is calling. Until bearer tokens exist, the caller states name, role and unit in headers
(`X-Tuoyu-User`, `X-Tuoyu-Role`, `X-Tuoyu-Unit`); checked against the unit registry so that a
town role names a town and a department role a department."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from api.errors import ApiError
from infra import reference
from models.actors import Actor, Role
from models.units import UnitKind

UNIT_KINDS = {
    Role.TOWN: {UnitKind.TOWN, UnitKind.STREET, UnitKind.ZONE},
    Role.DEPARTMENT: {UnitKind.DEPARTMENT, UnitKind.HEALTH_BODY},
    Role.LEADING_OFFICE: {UnitKind.OFFICE},
}


def current_actor(
    x_tuoyu_user: Annotated[str | None, Header()] = None,
    x_tuoyu_role: Annotated[str | None, Header()] = None,
    x_tuoyu_unit: Annotated[str | None, Header()] = None,
) -> Actor:
    if not x_tuoyu_user or not x_tuoyu_role:
        raise ApiError(401, "unauthenticated", "缺少操作人身份，请登录后再操作。")
    try:
        role = Role(x_tuoyu_role)
    except ValueError:
        raise ApiError(401, "unknown_role", "操作人角色无效。", {"role": x_tuoyu_role}) from None
    if role is Role.SYSTEM:
        raise ApiError(403, "forbidden_role", "系统角色不能通过接口操作。")
    kinds = UNIT_KINDS.get(role)
    if kinds is not None:
        unit = reference.units().get(x_tuoyu_unit or "")
        if unit is None or unit.kind not in kinds:
            raise ApiError(
                403,
                "unit_mismatch",
                "操作人所属单位与角色不符。",
                {"role": role, "unit": x_tuoyu_unit},
            )
    return Actor(name=x_tuoyu_user[:64], role=role, unit=x_tuoyu_unit or None)


ActorDep = Annotated[Actor, Depends(current_actor)]
