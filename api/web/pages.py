"""Routes of the web pages. The pages carry no data themselves: their scripts read it from
`/api/v1` with the signed-in user's session cookie, so the API's access rules are the pages'
access rules. No inline script or style anywhere (the pages run under
`Content-Security-Policy: default-src 'self'`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
static = StaticFiles(directory=HERE / "static")
# Swagger UI 5 (the API's OpenAPI is 3.1) from the fastapi-offline wheel, served here.
swagger_assets = StaticFiles(packages=[("fastapi_offline", "static")])
router = APIRouter(include_in_schema=False)

PAGES = {
    "index": ("/", "首页"),
    "hotline": ("/hotline", "热线受理"),
    "inbox": ("/inbox", "待办案件"),
    "dashboard": ("/dashboard", "监管统计"),
    "bans": ("/bans", "禁入查询"),
    "held": ("/held", "网上投诉分派"),
    "status": ("/status", "办理进度查询"),
    "login": ("/login", "登录"),
}
# Pages for the public (callers): no staff menu, no sign-in box.
PUBLIC = ("status", "login")


def page(request: Request, name: str, **context: object) -> HTMLResponse:
    current = name if name in PAGES else "inbox"
    return templates.TemplateResponse(
        request,
        f"{name}.html",
        {
            "pages": PAGES,
            "current": current,
            "public": name in PUBLIC,
            "public_pages": PUBLIC,
            "needs_user": name not in (*PUBLIC, "index"),
            **context,
        },
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return page(request, "index")


@router.get("/hotline", response_class=HTMLResponse)
def hotline(request: Request) -> HTMLResponse:
    return page(request, "hotline")


@router.get("/status", response_class=HTMLResponse)
def status(request: Request) -> HTMLResponse:
    return page(request, "status")


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request) -> HTMLResponse:
    return page(request, "inbox")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case(request: Request, case_id: str) -> HTMLResponse:
    return page(request, "case", case_id=case_id)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    return page(request, "dashboard")


@router.get("/bans", response_class=HTMLResponse)
def bans(request: Request) -> HTMLResponse:
    return page(request, "bans")


@router.get("/held", response_class=HTMLResponse)
def held(request: Request) -> HTMLResponse:
    return page(request, "held")


@router.get("/login", response_class=HTMLResponse)
def login(request: Request) -> HTMLResponse:
    return page(request, "login")


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "docs.html", {})
