"""Open311 requests held for the 12345 hotline centre: their place mapped to no jurisdiction
(a point in no polygon of the boundary file, or only an `address_string`). An operator reads
the place and the description and dispatches the request to a town by hand; it then becomes
a case like any other, under the service_request_id the client was already given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from kafka.errors import KafkaError
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, col, select

from api.deps import AuditSessionDep, PublisherDep, SessionDep
from api.errors import ApiError
from api.identity import require
from infra import audit, reference
from infra.intake import InvalidEvent, check_complaint
from infra.kafka import KafkaPublisher
from models import topics
from models.actors import Actor, Role
from models.audit import AuditEntry
from models.bounds import Line
from models.complaints import Channel, ComplaintReceived
from models.open311 import Open311Request

router = APIRouter(prefix="/api/v1/open311", tags=["open311 hand dispatch"])
Hotline = require(Role.OPERATOR, Role.ADMIN)


class HeldRequest(BaseModel):
    service_request_id: str
    received_at: datetime
    category: str
    description: str
    address_string: str | None
    lat: float | None
    long: float | None
    media_urls: list[str]


class DispatchBody(BaseModel):
    town: Line = Field(min_length=1, max_length=64, description="town, street or zone code")


class Dispatched(BaseModel):
    service_request_id: str
    town: str
    message: str


@router.get("/held", response_model=list[HeldRequest], summary="待人工分派的 Open311 请求")
def list_held(session: SessionDep, actor: Actor = Hotline) -> list[HeldRequest]:
    rows = session.exec(
        select(Open311Request)
        .where(col(Open311Request.held).is_not(None))
        .order_by(col(Open311Request.received_at))
        .limit(500)
    ).all()
    return [
        HeldRequest(
            service_request_id=r.service_request_id,
            received_at=r.received_at,
            category=r.category,
            description=_held(r.held, "held").description,
            address_string=r.address_string,
            lat=r.lat,
            long=r.long,
            media_urls=r.media_urls.split("\n") if r.media_urls else [],
        )
        for r in rows
    ]


def _held(held: str | None, town: str) -> ComplaintReceived:
    """The complaint as it was kept (without a town), with this town."""
    return ComplaintReceived.model_validate({**json.loads(held or "{}"), "town": town})


@router.post("/held/{service_request_id}/dispatch", response_model=Dispatched, summary="人工分派")
async def dispatch(
    service_request_id: str,
    body: DispatchBody,
    audit_session: AuditSessionDep,
    publisher: PublisherDep,
    actor: Actor = Hotline,
) -> Dispatched:
    if not reference.is_jurisdiction(body.town):
        raise ApiError(422, "unknown_town", "请选择本市的镇（街道、园区）。", {"town": body.town})
    await run_in_threadpool(
        _dispatch, audit_session, publisher, service_request_id, body.town, actor
    )
    name = reference.units()[body.town].name
    return Dispatched(
        service_request_id=service_request_id,
        town=body.town,
        message=f"已分派{name}办理，案件编号 {service_request_id}。",
    )


def _dispatch(
    session: Session, publisher: KafkaPublisher, request_id: str, town: str, actor: Actor
) -> None:
    """In one writing transaction (the row locked): publish, then mark it dispatched; a
    second operator at the same moment finds it gone. A publish repeated after a failed
    commit is the same event id, which the intake takes once."""
    row = session.exec(
        select(Open311Request)
        .where(Open311Request.service_request_id == request_id)
        .with_for_update()
    ).first()
    if row is None or row.held is None:
        session.rollback()
        raise ApiError(
            409 if row is not None else 404,
            "not_held",
            "该请求已分派或不存在。",
            {"service_request_id": request_id},
        )
    try:
        complaint = check_complaint(
            _held(row.held, town).model_copy(
                update={"taken_by": actor.name if actor.role is Role.OPERATOR else None}
            )
        )
    except (ValidationError, InvalidEvent, ValueError) as exc:  # kept by an older version, say
        session.rollback()
        raise ApiError(422, "held_unreadable", "该请求内容无法分派，请联系系统管理员。") from exc
    try:
        publisher.publish(
            topics.COMPLAINTS, complaint.event_id, complaint.model_dump_json().encode()
        )
    except KafkaError as exc:
        session.rollback()
        raise ApiError(503, "broker_unavailable", "消息服务暂时不可用，请稍后重试。") from exc
    now = datetime.now(UTC)
    row.town, row.located_by, row.held = town, "hand", None
    row.dispatched_at, row.dispatched_by = now, actor.label
    session.add(row)
    details: dict[str, Any] = {"town": town, "event_id": complaint.event_id}
    audit.append(
        session,
        AuditEntry(
            actor=actor.label,
            actor_role=actor.role,
            actor_unit=actor.unit,
            action="open311.dispatched",
            channel=Channel.OPEN311,
            case_id=request_id,
            occurred_at=now,
            reason="12345热线中心人工分派",
            idempotency_key=f"{request_id}:dispatched",
            details=details,
        ),
    )
    session.commit()
