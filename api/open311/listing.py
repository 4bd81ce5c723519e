"""GET service requests: at most 90 days and 1,000 requests per answer (the spec's limits),
paged with `page`/`page_size`; a request held for the hotline centre is listed too, as open
with the centre as the agency responsible."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from api.deps import SessionDep
from api.open311.common import check_format
from api.open311.formats import Open311Error, render
from api.routes_public import STATUS_TEXT
from infra import reference
from models.bounds import query_datetime
from models.cases import Case, CaseStatus
from models.complaints import Category, Channel
from models.open311 import Open311Request

router = APIRouter()
CLOSED = (CaseStatus.CLOSED, CaseStatus.MERGED)
MAX_RANGE = timedelta(days=90)
HOTLINE = "hotline"


def _media(row: Open311Request | None) -> str | None:
    return row.media_urls.split("\n")[0] if row is not None and row.media_urls else None


def _public(case: Case, row: Open311Request | None = None) -> dict[str, Any]:
    units = reference.units()
    agency = case.handler or case.town
    return {
        "service_request_id": case.id,
        "status": "closed" if case.status in CLOSED else "open",
        "status_notes": STATUS_TEXT[CaseStatus(case.status)],
        "service_name": reference.catalogue()[Category(case.category)].name,
        "service_code": str(case.category),
        "agency_responsible": units[agency].name if agency in units else agency,
        "service_notice": None,
        "requested_datetime": case.received_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.resolve_by.isoformat() if case.resolve_by else None,
        "media_url": _media(row),
    }


def _held(row: Open311Request) -> dict[str, Any]:
    return {
        "service_request_id": row.service_request_id,
        "status": "open",
        "status_notes": "已受理，待12345热线中心分派承办单位",
        "service_name": reference.catalogue()[Category(row.category)].name,
        "service_code": row.category,
        "agency_responsible": reference.units()[HOTLINE].name,
        "service_notice": None,
        "requested_datetime": row.received_at.isoformat(),
        "updated_datetime": row.received_at.isoformat(),
        "expected_datetime": None,
        "media_url": _media(row),
    }


def date_param(value: str | None, name: str, fmt: str) -> datetime | None:
    if not value:
        return None
    try:
        # An unescaped "+" of an offset arrives as a space ("...T08:00:00 08:00").
        text = re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", value.strip()).replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Open311Error(
            400, f"{name} 须为 W3C 日期时间（如 2026-12-01T08:00:00+08:00）", fmt
        ) from exc
    try:
        # Far dates overflow once converted for the query (9999-12-31T23:59:59-12:00).
        query_datetime(parsed)
    except ValueError as exc:
        raise Open311Error(
            400, f"{name} 须在 2000-01-01 至 2100-01-01 之间（时区偏移不超过 14 小时）", fmt
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_range(start_date: str | None, end_date: str | None, fmt: str) -> tuple[datetime, datetime]:
    end = date_param(end_date, "end_date", fmt) or datetime.now(UTC)
    start = date_param(start_date, "start_date", fmt) or end - MAX_RANGE
    if end - start > MAX_RANGE:
        raise Open311Error(400, "start_date 至 end_date 不得超过 90 天", fmt)
    return start, end


def _int(value: str | None, name: str, default: int, top: int, fmt: str) -> int:
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= top:
        raise Open311Error(400, f"{name} 须为 1 至 {top} 的整数", fmt)
    return int(value)


@router.get("/requests.{fmt}", summary="GET Service Requests")
def list_requests(
    fmt: str,
    request: Request,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response:
    fmt = check_format(fmt)
    cap = request.app.state.settings.open311_max_requests
    size = _int(page_size, "page_size", cap, cap, fmt)
    number = _int(page, "page", 1, 1_000_000, fmt)
    cases = select(Case).where(Case.channel == Channel.OPEN311)
    held = select(Open311Request).where(col(Open311Request.held).is_not(None))
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:100]
        cases = cases.where(col(Case.id).in_(ids))
        held = held.where(col(Open311Request.service_request_id).in_(ids))
    else:
        start, end = date_range(start_date, end_date, fmt)
        cases = cases.where(Case.received_at >= start).where(Case.received_at <= end)
        held = held.where(Open311Request.received_at >= start)
        held = held.where(Open311Request.received_at <= end)
        if service_code:
            codes = service_code.split(",")
            cases = cases.where(col(Case.category).in_(codes))
            held = held.where(col(Open311Request.category).in_(codes))
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, "status 只能为 open 或 closed", fmt)
            if wanted == {"open"}:
                cases = cases.where(col(Case.status).not_in(CLOSED))
            elif wanted == {"closed"}:
                cases = cases.where(col(Case.status).in_(CLOSED))
                held = held.where(col(Open311Request.held).is_(None))  # none: held is open
    # The newest first; enough of both sources to fill the page asked for.
    wanted_rows = number * size
    found = session.exec(cases.order_by(col(Case.received_at).desc()).limit(wanted_rows)).all()
    waiting = session.exec(
        held.order_by(col(Open311Request.received_at).desc()).limit(wanted_rows)
    ).all()
    rows = {
        r.service_request_id: r
        for r in session.exec(
            select(Open311Request).where(
                col(Open311Request.service_request_id).in_([c.id for c in found])
            )
        ).all()
    }
    merged = [(c.received_at, _public(c, rows.get(c.id))) for c in found]
    merged += [(r.received_at, _held(r)) for r in waiting if r.service_request_id not in rows]
    merged.sort(key=lambda pair: pair[0], reverse=True)
    return render(fmt, "service_requests", [p for _, p in merged[(number - 1) * size :][:size]])


@router.get("/requests/{service_request_id}.{fmt}", summary="GET Service Request")
def read_request(service_request_id: str, fmt: str, session: SessionDep) -> Response:
    fmt = check_format(fmt)
    case = session.get(Case, service_request_id)
    row = session.get(Open311Request, service_request_id)
    if case is not None and case.channel == Channel.OPEN311:
        return render(fmt, "service_requests", [_public(case, row)])
    if row is not None and row.held is not None:
        return render(fmt, "service_requests", [_held(row)])
    raise Open311Error(
        404, f"未找到服务请求 {service_request_id[:40]!r}（如刚刚提交，请稍后再查）", fmt
    )


@router.get("/tokens/{token}.{fmt}", summary="GET request id from a token")
def read_token(token: str, fmt: str, session: SessionDep) -> Response:
    fmt = check_format(fmt)
    case = session.exec(select(Case).where(Case.source_event_id == token)).first()
    row = session.exec(select(Open311Request).where(Open311Request.event_id == token)).first()
    if case is not None and case.channel == Channel.OPEN311:
        found = case.id
    elif row is not None and row.held is not None:
        found = row.service_request_id
    else:
        raise Open311Error(404, "未找到该 token（或其请求尚未建立案件，请稍后再查）", fmt)
    return render(fmt, "service_requests", [{"service_request_id": found, "token": token}])
