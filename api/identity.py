"""Who is calling: a bearer token from `tuoyu users add`, looked up by its hash (systems), or
the session cookie of the web sign-in (people; see api/signin.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SessionDep, SettingsDep
from api.errors import ApiError
from api.signin import cookie_actor
from infra.users import TokenRefused, authenticate
from models.actors import Actor, Role

bearer = HTTPBearer(auto_error=False, description="token from `tuoyu users add`")


def current_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None:
        signed_in = cookie_actor(request, session)
        session.rollback()
        if signed_in is None:
            raise ApiError(401, "unauthenticated", "请先登录：缺少访问令牌或登录已过期。")
        return signed_in
    try:
        return authenticate(session, credentials.credentials, settings.token_ttl)
    except TokenRefused as refused:
        raise ApiError(401, refused.code, refused.message) from None
    finally:
        # End the read: a request that then waits on a workflow must see what it wrote.
        session.rollback()


def require(*roles: Role) -> Any:
    """A dependency that lets only these roles through (403 for the rest), checked before
    the body is validated, so a caller without the role learns nothing from the errors."""

    def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in roles:
            raise ApiError(403, "forbidden", "你的角色无权进行此操作。", {"role": actor.role})
        return actor

    return Depends(check)


ActorDep = Annotated[Actor, Depends(current_actor)]


def writer(actor: ActorDep) -> Actor:
    """Anyone but an auditor: auditors only read."""
    if actor.role is Role.AUDITOR:
        raise ApiError(403, "forbidden", "审计人员只能查询，不能办理。")
    return actor


WriterDep = Annotated[Actor, Depends(writer)]


def acting_on_case(case_id: str, session: SessionDep, actor: WriterDep) -> Actor:
    """Who acts on a case: someone who may see it. The workflow then checks the action
    against the unit and the case's state."""
    from api.access import case_for

    case_for(session, actor, case_id)
    session.rollback()
    return actor


ActingDep = Annotated[Actor, Depends(acting_on_case)]
