"""The updates feed FixMyStreet polls (`GET servicerequestupdates.xml?start_date&end_date`,
its Open311::GetServiceRequestUpdates): one update per public step of an Open311 request,
from the audit trail, oldest first. `update_id` is the trail's sequence number, so a client
that has seen it skips it.

`status` is one FixMyStreet maps to a state of its own (its `map_state`: OPEN, CLOSED,
IN_PROGRESS, ACTION_SCHEDULED, FIXED, NO_FURTHER_ACTION, DUPLICATE...). `description` is the
public text of the step; the handling unit's answer (办理结果) is added only for a caller
with a valid `api_key` (FixMyStreet always sends its own), and a town's key sees its own
town's requests only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import or_
from sqlmodel import col, select

from api.deps import SessionDep
from api.open311.common import check_format, key_actor
from api.open311.formats import Open311Error, render
from api.open311.listing import date_range
from infra import reference
from models.actors import Role
from models.audit import AuditRecord
from models.cases import Case, Outcome
from models.complaints import Channel
from models.open311 import Open311Request

router = APIRouter()
# action -> (status, public text); None: decided by the step (see `_status`).
PUBLIC_STEPS: dict[str, tuple[str, str]] = {
    "open311.held": (
        "OPEN",
        "已受理。所报位置未能自动确定所属镇（街道），由12345热线中心人工分派。",
    ),
    "case.dispatched": ("OPEN", "已受理，已派发{handler}办理。"),
    "case.merged": ("DUPLICATE", "已与同一机构同类投诉合并办理。"),
    "case.accepted": ("IN_PROGRESS", "承办单位已签收，正在调查处理。"),
    "case.handed-down": ("IN_PROGRESS", "已交由{handler}办理。"),
    "case.taken-over": ("IN_PROGRESS", "已由{handler}提级办理。"),
    "case.escalated": ("IN_PROGRESS", "已提级，由{handler}办理。"),
    "case.reopened": ("IN_PROGRESS", "回访不满意，已重新办理。"),
    "case.redo": ("IN_PROGRESS", "回访不满意，已退回重办。"),
    "case.resolved": ("FIXED", "已有处理结果，待回访。"),
    "case.answered-directly": ("CLOSED", "已直接答复并办结。"),
    "case.closed": ("CLOSED", "已办结。"),
}
ANSWERS = ("case.resolved", "case.answered-directly")


def _status(record: AuditRecord) -> str:
    status = PUBLIC_STEPS[record.action][0]
    if record.action == "case.resolved" and record.details.get("outcome") in (
        Outcome.UNSUBSTANTIATED,
        Outcome.ANSWERED,
    ):
        return "NO_FURTHER_ACTION"
    return status


def _update(record: AuditRecord, with_answer: bool) -> dict[str, Any]:
    units = reference.units()
    handler = record.details.get("handler") or ""
    text = PUBLIC_STEPS[record.action][1].format(
        handler=units[handler].name if handler in units else "承办单位"
    )
    if with_answer and record.action in ANSWERS and record.reason:
        text = f"{text}答复：{record.reason}"
    return {
        "update_id": str(record.seq),
        "service_request_id": record.case_id,
        "status": _status(record),
        "updated_datetime": record.occurred_at.isoformat(timespec="seconds"),  # W3CDTF
        "description": text,
        "media_url": None,
    }


@router.get("/servicerequestupdates.{fmt}", summary="GET Service Request Updates")
def list_updates(
    fmt: str,
    request: Request,
    session: SessionDep,
    start_date: str | None = None,
    end_date: str | None = None,
    api_key: str | None = None,
    service_request_id: str | None = None,
) -> Response:
    fmt = check_format(fmt)
    settings = request.app.state.settings
    actor = key_actor(session, settings, api_key or "")
    if api_key and actor is None:
        raise Open311Error(403, "api_key 无效或已过期", fmt)
    start, end = date_range(start_date, end_date, fmt)
    open311_cases = select(Case.id).where(Case.channel == Channel.OPEN311)
    town_key = actor is not None and actor.role is Role.TOWN
    if town_key:
        open311_cases = open311_cases.where(Case.town == actor.unit)  # type: ignore[union-attr]
    shown: list[Any] = [col(AuditRecord.case_id).in_(open311_cases)]
    if not town_key:  # a held request has no case (nor town) yet: its own step
        held = select(Open311Request.service_request_id)
        shown.append(
            (col(AuditRecord.action) == "open311.held") & col(AuditRecord.case_id).in_(held)
        )
    query = (
        select(AuditRecord)
        .where(col(AuditRecord.action).in_(list(PUBLIC_STEPS)))
        .where(AuditRecord.occurred_at >= start)
        .where(AuditRecord.occurred_at <= end)
        .where(or_(*shown))
    )
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:100]
        query = query.where(col(AuditRecord.case_id).in_(ids))
    records = session.exec(
        query.order_by(col(AuditRecord.seq)).limit(settings.open311_max_requests)
    ).all()
    with_answer = actor is not None
    return render(fmt, "service_request_updates", [_update(r, with_answer) for r in records])
