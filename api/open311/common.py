"""What every Open311 route shares: the format, the one jurisdiction, the services, the key."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from api.open311.formats import FORMATS, Open311Error
from infra import reference
from infra.settings import Settings
from infra.users import actor_for_token
from models.actors import Actor, Role
from models.complaints import Category

# Reported by cameras or by the platform itself, not by the public.
NOT_PUBLIC = (Category.BANNED_PERSON, Category.VIDEO_ALARM)
# Who may submit with their token as `api_key`: anyone who may submit a complaint over the
# native API (a town office running its own FixMyStreet, the hotline centre), not auditors.
NOT_SUBMITTERS = (Role.AUDITOR, Role.SYSTEM)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(400, f"不支持的格式 {fmt[:10]!r}：仅支持 json 或 xml")
    return fmt


def check_jurisdiction(settings: Settings, given: str | None, fmt: str) -> None:
    """One jurisdiction: `jurisdiction_id` may be left out; another one is refused (400)."""
    if given and given.strip() != settings.open311_jurisdiction:
        raise Open311Error(
            400,
            f"jurisdiction_id {given[:40]!r} 不正确：本系统只受理 "
            f"{settings.open311_jurisdiction!r}（凯里市）",
            fmt,
        )


def jurisdiction_query(request: Request) -> None:
    """Router dependency: the `jurisdiction_id` query parameter of every GET."""
    fmt = request.path_params.get("fmt", "json")
    check_jurisdiction(request.app.state.settings, request.query_params.get("jurisdiction_id"), fmt)


def services() -> dict[Category, reference.CategoryInfo]:
    return {c: info for c, info in reference.catalogue().items() if c not in NOT_PUBLIC}


def category(service_code: str, fmt: str) -> Category:
    if not service_code:
        raise Open311Error(400, "缺少 service_code（服务类别）", fmt)
    try:
        found = Category(service_code)
    except ValueError:
        found = None
    if found is None or found in NOT_PUBLIC:
        raise Open311Error(404, f"未找到服务类别 service_code {service_code[:40]!r}", fmt)
    return found


def key_actor(session: Session, settings: Settings, api_key: str) -> Actor | None:
    actor = actor_for_token(session, api_key, settings.token_ttl) if api_key else None
    session.rollback()
    return actor


def submitter(session: Session, settings: Settings, api_key: str, fmt: str) -> Actor:
    actor = key_actor(session, settings, api_key)
    if actor is None or actor.role in NOT_SUBMITTERS:
        raise Open311Error(403, "api_key 缺失、无效或无权提交（审计人员只能查询）", fmt)
    return actor
