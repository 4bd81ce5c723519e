"""Web sign-in: a password, then a session in an HttpOnly cookie.

CSRF: the session cookie is SameSite=Strict, and every state-changing request that a cookie
authenticates must also carry the header `X-CSRF-Token` with the token derived from the
session (double submit: the pages read it from the `tuoyu_csrf` cookie, which another site
can neither read nor set for this host), and, when the browser sends `Origin`, come from this
host. Bearer tokens (systems) are not cookies, so none of this applies to them.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import AuditSessionDep, SettingsDep
from api.errors import ApiError
from infra import audit, passwords, signin_limit
from infra.settings import Settings
from models.actors import Actor
from models.audit import AuditEntry

SESSION_COOKIE = "tuoyu_session"
CSRF_COOKIE = "tuoyu_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

router = APIRouter(prefix="/api/v1/session", tags=["sign-in"])


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SignedIn(BaseModel):
    name: str
    role: str
    unit: str | None
    expires_at: str


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not sent on same-origin GETs by some browsers; the token still counts
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def cookie_actor(request: Request, session: Session) -> Actor | None:
    """The signed-in user of a browser, or None without a session cookie. Raises 401 for an
    expired or ended session and 403 for a state-changing request without the CSRF token."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    actor = passwords.actor_for_session(session, session_id)
    if actor is None:
        raise ApiError(401, "session_expired", "登录已过期或已退出，请重新登录。")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not _same_origin(request) or not hmac.compare_digest(
            sent, passwords.csrf_token(session_id)
        ):
            raise ApiError(403, "csrf", "请求来源无法确认，请刷新页面后重试。")
    return actor


def _set_cookies(response: Response, settings: Settings, session_id: str) -> None:
    age = settings.session_ttl_minutes * 60
    secure = settings.session_cookie_secure
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=age, httponly=True, samesite="strict", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE,
        passwords.csrf_token(session_id),
        max_age=age,
        httponly=False,
        samesite="strict",
        secure=secure,
    )


@router.post("", response_model=SignedIn, summary="登录（网页）")
def sign_in(
    body: SignInBody,
    request: Request,
    response: Response,
    session: AuditSessionDep,
    settings: SettingsDep,
) -> SignedIn:
    if not _same_origin(request):
        raise ApiError(403, "csrf", "请求来源无法确认，请刷新页面后重试。")
    now = datetime.now(UTC)
    limit, window = (
        settings.signin_max_failures,
        timedelta(minutes=settings.signin_failure_window_minutes),
    )
    until = signin_limit.locked_until(session, body.name, now, limit, window)
    if until is not None:
        # The password is not even checked: guessing on goes nowhere.
        _audit_refusal(session, body.name, now, "signin.refused", "locked", until)
        session.commit()
        raise _too_many(until, now)
    user = passwords.check_password(session, body.name, body.password)
    if user is None:
        signin_limit.record_failure(session, body.name, now, window)
        until = signin_limit.locked_until(session, body.name, now, limit, window)
        _audit_refusal(session, body.name, now, "signin.failed", "refused", until)
        session.commit()
        if until is not None:
            raise _too_many(until, now)
        raise ApiError(401, "bad_credentials", "用户名或密码不正确，或该账号已停用。")
    signin_limit.clear(session, user.name)
    session_id, row = passwords.start_session(
        session, user, timedelta(minutes=settings.session_ttl_minutes)
    )
    _set_cookies(response, settings, session_id)
    return SignedIn(
        name=user.name, role=user.role, unit=user.unit, expires_at=row.expires_at.isoformat()
    )


def _too_many(until: datetime, now: datetime) -> ApiError:
    seconds = int((until - now).total_seconds()) + 1
    minutes = max(1, -(-seconds // 60))
    return ApiError(
        429,
        "too_many_attempts",
        f"密码错误次数过多，该账号已暂停登录，请 {minutes} 分钟后再试；"
        "如忘记密码，请联系系统管理员重设。",
        {"retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def _audit_refusal(
    session: Session, name: str, now: datetime, action: str, outcome: str, until: datetime | None
) -> None:
    """A wrong password, or an attempt while the name is locked, in the audit trail (never the
    password typed)."""
    reason = "密码错误" if action == "signin.failed" else "登录失败次数过多，暂停登录"
    details: dict[str, str] = {"name": name}
    if until is not None:
        details["locked_until"] = until.isoformat()
    audit.append(
        session,
        AuditEntry(
            actor=f"web:{name}",
            actor_role="anonymous",
            action=action,
            channel="http",
            reason=reason,
            outcome=outcome,
            occurred_at=now,
            details=details,
        ),
    )


@router.post("/end", status_code=204, summary="退出登录")
def sign_out(request: Request, session: AuditSessionDep) -> Response:
    """Ends the session on the server, not only in the browser. Needs no valid session: an
    expired one is simply cleared."""
    response = Response(status_code=204)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        if not _same_origin(request):
            raise ApiError(403, "csrf", "请求来源无法确认，请刷新页面后重试。")
        passwords.end_session(session, session_id)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, samesite="strict")
    return response
