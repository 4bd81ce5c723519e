"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are the complaint
categories a member of the public may report; a request becomes a complaint on
`tuoyu.complaints` with the channel `open311`.

Privacy: GET requests lists only requests made through Open311, and only their public status
(service, status, status notes, responsible agency, times), never the description, the
institution or the reporter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from kafka.errors import KafkaError
from pydantic import ValidationError
from sqlmodel import col, select

from api.deps import HasherDep, PublisherDep, SessionDep, VaultDep
from api.open311.formats import FORMATS, Open311Error, render
from api.routes_public import STATUS_TEXT
from infra import reference
from infra.intake import InvalidEvent, check_complaint, describe
from infra.users import actor_for_token
from models import topics
from models.actors import Role
from models.bounds import query_datetime
from models.cases import Case, CaseStatus, case_id_for
from models.complaints import Category, Channel, ComplaintReceived

router = APIRouter(prefix="/open311/v2", tags=["open311"])

# Reported by cameras or by the platform itself, not by the public.
NOT_PUBLIC = (Category.BANNED_PERSON, Category.VIDEO_ALARM)
CLOSED = (CaseStatus.CLOSED, CaseStatus.MERGED)
SUBMITTERS = (Role.OPERATOR, Role.ADMIN)
MAX_RANGE = timedelta(days=90)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(400, f"unsupported format {fmt[:10]!r}: json or xml")
    return fmt


def _services() -> dict[Category, reference.CategoryInfo]:
    return {c: info for c, info in reference.catalogue().items() if c not in NOT_PUBLIC}


def _towns() -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in reference.units().values() if u.kind.is_jurisdiction]


@router.get("/services.{fmt}", summary="GET Service List")
def services(fmt: str) -> Response:
    fmt = _format(fmt)
    return render(
        fmt,
        "services",
        [
            {
                "service_code": code.value,
                "service_name": info.name,
                "description": f"投诉举报：{info.name}",
                "metadata": True,
                "type": "realtime",
                "keywords": "托育,投诉",
                "group": "托育机构监管",
            }
            for code, info in _services().items()
        ],
    )


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition")
def service_definition(service_code: str, fmt: str) -> Response:
    fmt = _format(fmt)
    category = _category(service_code, fmt)
    attributes: list[dict[str, Any]] = [
        {
            "variable": True,
            "code": "town",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": "机构所在镇（街道、园区）",
            "order": 1,
            "description": "机构所在镇（街道、园区）",
            "values": [{"key": code, "name": name} for code, name in _towns()],
        },
        {
            "variable": True,
            "code": "institution_name",
            "datatype": "string",
            "required": False,
            "datatype_description": "托育机构名称",
            "order": 2,
            "description": "被投诉的托育机构名称",
        },
        {
            "variable": True,
            "code": "anonymous",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "是否匿名",
            "order": 3,
            "description": "匿名举报不回访",
            "values": [{"key": "false", "name": "实名"}, {"key": "true", "name": "匿名"}],
        },
    ]
    return render(
        fmt,
        "service_definition",
        {"service_code": category.value, "attributes": attributes},
    )


def _category(service_code: str, fmt: str) -> Category:
    try:
        category = Category(service_code)
    except ValueError:
        category = None
    if category is None or category in NOT_PUBLIC:
        raise Open311Error(404, f"service_code {service_code[:40]!r} not found", fmt)
    return category


@router.post("/requests.{fmt}", summary="POST Service Request")
async def create_request(
    fmt: str,
    request: Request,
    session: SessionDep,
    publisher: PublisherDep,
    hasher: HasherDep,
    vault: VaultDep,
) -> Response:
    fmt = _format(fmt)
    form = _form(await request.body(), fmt)
    actor = actor_for_token(session, form.get("api_key", ""), request.app.state.settings.token_ttl)
    session.rollback()
    if actor is None or actor.role not in SUBMITTERS:
        raise Open311Error(403, "api_key missing or invalid", fmt)
    category = _category(form.get("service_code", ""), fmt)
    phone = form.get("phone") or None
    name = " ".join(p for p in (form.get("last_name"), form.get("first_name")) if p) or None
    anonymous = form.get("attribute[anonymous]", "false").lower() == "true"
    location = form.get("address_string")
    if form.get("lat") and form.get("long"):
        location = f"{location or ''}（{form['lat']},{form['long']}）".strip()
    description = form.get("description", "").strip()
    if location:
        description = f"{description}\n地址：{location}"
    try:
        complaint = check_complaint(
            ComplaintReceived.model_validate(
                {
                    "event_id": f"open311-{uuid.uuid4()}",
                    "occurred_at": datetime.now(UTC),
                    "channel": Channel.OPEN311,
                    "category": category,
                    "town": form.get("attribute[town]", ""),
                    "institution_name": form.get("attribute[institution_name]") or None,
                    "description": description,
                    "anonymous": anonymous,
                    "complainant": None
                    if anonymous or not (name or phone)
                    else {"name": name, "phone": phone},
                }
            )
        )
    except ValidationError as exc:
        problems = "; ".join(f"{d['field']}: {d['problem']}" for d in describe(exc)[:5])
        raise Open311Error(400, f"invalid request: {problems}", fmt) from exc
    except InvalidEvent as exc:
        raise Open311Error(400, exc.reason, fmt) from exc
    complaint = vault.sealed_complaint(complaint)  # the contact leaves sealed
    try:
        await run_in_threadpool(
            publisher.publish,
            topics.COMPLAINTS,
            complaint.event_id,
            complaint.model_dump_json().encode(),
        )
    except KafkaError as exc:
        raise Open311Error(503, "service temporarily unavailable, try again", fmt) from exc
    case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    return render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": case_id,
                "token": complaint.event_id,
                "service_notice": f"已受理。查询码 {hasher.tracking_code(case_id)}",
                "account_id": None,
            }
        ],
    )


def _form(body: bytes, fmt: str) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Open311Error(
            400, "body must be application/x-www-form-urlencoded UTF-8", fmt
        ) from exc
    return {k: v[0] for k, v in fields.items()}


def _public(case: Case) -> dict[str, Any]:
    units = reference.units()
    catalogue = reference.catalogue()
    agency = case.handler or case.town
    return {
        "service_request_id": case.id,
        "status": "closed" if case.status in CLOSED else "open",
        "status_notes": STATUS_TEXT[CaseStatus(case.status)],
        "service_name": catalogue[Category(case.category)].name,
        "service_code": str(case.category),
        "agency_responsible": units[agency].name if agency in units else agency,
        "service_notice": None,
        "requested_datetime": case.received_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.resolve_by.isoformat() if case.resolve_by else None,
    }


def _date(value: str | None, name: str, fmt: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a W3C date-time", fmt) from exc
    try:
        # Far dates overflow once converted for the query (9999-12-31T23:59:59-12:00).
        query_datetime(parsed)
    except ValueError as exc:
        raise Open311Error(
            400, f"{name} must lie between 2000-01-01 and 2100-01-01 (offset within 14 h)", fmt
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.{fmt}", summary="GET Service Requests")
def list_requests(
    fmt: str,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    fmt = _format(fmt)
    query = select(Case).where(Case.channel == Channel.OPEN311)
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:100]
        query = query.where(col(Case.id).in_(ids))
    else:
        end = _date(end_date, "end_date", fmt) or datetime.now(UTC)
        start = _date(start_date, "start_date", fmt) or end - MAX_RANGE
        if end - start > MAX_RANGE:
            raise Open311Error(400, "start_date to end_date may not span more than 90 days", fmt)
        query = query.where(Case.received_at >= start).where(Case.received_at <= end)
        if service_code:
            query = query.where(col(Case.category).in_(service_code.split(",")))
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, "status must be open or closed", fmt)
            if wanted == {"open"}:
                query = query.where(col(Case.status).not_in(CLOSED))
            elif wanted == {"closed"}:
                query = query.where(col(Case.status).in_(CLOSED))
    cases = session.exec(query.order_by(col(Case.received_at).desc()).limit(1000)).all()
    return render(fmt, "service_requests", [_public(c) for c in cases])


@router.get("/requests/{service_request_id}.{fmt}", summary="GET Service Request")
def read_request(service_request_id: str, fmt: str, session: SessionDep) -> Response:
    fmt = _format(fmt)
    case = session.get(Case, service_request_id)
    if case is None or case.channel != Channel.OPEN311:
        raise Open311Error(404, f"service_request_id {service_request_id[:40]!r} not found", fmt)
    return render(fmt, "service_requests", [_public(case)])


@router.get("/tokens/{token}.{fmt}", summary="GET request id from a token")
def read_token(token: str, fmt: str, session: SessionDep) -> Response:
    fmt = _format(fmt)
    case = session.exec(select(Case).where(Case.source_event_id == token)).first()
    if case is None or case.channel != Channel.OPEN311:
        raise Open311Error(404, "token not found (or its request is not created yet)", fmt)
    return render(fmt, "service_requests", [{"service_request_id": case.id, "token": token}])
