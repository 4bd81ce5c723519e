"""POST and GET service requests. A request names its town (`attribute[town]`), or its
institution (`attribute[institution_id]`, the registry's town), or only a place: `lat`/`long`
are looked up in the boundary file (infra/boundaries.py); a point in no polygon, or only an
`address_string`, is held for the 12345 hotline centre to dispatch by hand
(api/open311/desk.py). The reporter's contact (name, phone, email) is sealed by the vault at
once, as a hotline caller's is; `media_url` is kept as a reference, never fetched.

A client that did not read the answer posts the same form again (FixMyStreet retries a send
that failed): the same fields from the same client on the same day are that retry, and get
the first answer (the same case number and token), not a second case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from kafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import AuditSessionDep, HasherDep, PublisherDep, SessionDep, VaultDep
from api.open311 import form, listing
from api.open311.common import category, check_format, check_jurisdiction, submitter
from api.open311.formats import Open311Error, render
from api.routes_desk import phone_hash
from infra import audit, boundaries, reference
from infra.intake import InvalidEvent, check_complaint
from models import topics
from models.actors import Actor
from models.audit import AuditEntry
from models.cases import case_id_for
from models.complaints import Channel, ComplaintReceived
from models.institutions import Institution
from models.open311 import Open311Request
from models.timeutil import SHANGHAI

router = APIRouter()
HELD_NOTICE = "已受理。所报位置未能自动确定所属镇（街道），由12345热线中心人工分派。"


@router.post("/requests.{fmt}", summary="POST Service Request")
async def create_request(
    fmt: str,
    request: Request,
    session: SessionDep,
    audit_session: AuditSessionDep,
    publisher: PublisherDep,
    hasher: HasherDep,
    vault: VaultDep,
) -> Response:
    fmt = check_format(fmt)
    settings = request.app.state.settings
    fields = await form.read(request, fmt)
    check_jurisdiction(settings, fields.get("jurisdiction_id"), fmt)
    actor = submitter(session, settings, fields.get("api_key"), fmt)
    found = category(fields.get("service_code"), fmt)
    point = form.coordinates(fields, fmt)
    event_id = submission_id(actor, fields, datetime.now(UTC))
    first = _first(session, event_id)
    if first is not None:
        return _answer(fmt, hasher, first)
    town, located_by = _town(session, settings, fields, point, fmt)
    complaint = _complaint(fields, found, town, point, fmt, event_id)
    phone = complaint.complainant.phone if complaint.complainant else None
    if phone:
        complaint = complaint.model_copy(update={"caller_hash": phone_hash(hasher, phone)})
    complaint = vault.sealed_complaint(complaint)  # the contact leaves sealed
    case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    row = Open311Request(
        service_request_id=case_id,
        event_id=complaint.event_id,
        received_at=complaint.occurred_at,
        category=found.value,
        lat=point[0] if point else None,
        long=point[1] if point else None,
        address_string=fields.get("address_string")[:500] or None,
        media_urls="\n".join(fields.media_urls) or None,
        town=town,
        located_by=located_by,
        held=complaint.model_dump_json(exclude={"town"}) if town is None else None,
    )
    if town is not None:
        try:
            await run_in_threadpool(
                publisher.publish,
                topics.COMPLAINTS,
                complaint.event_id,
                complaint.model_dump_json().encode(),
            )
        except KafkaError as exc:
            raise Open311Error(503, "服务暂时不可用，请稍后重试", fmt) from exc
    try:
        await run_in_threadpool(_keep, audit_session, row, actor)
    except IntegrityError:  # the same retry at the same moment: the first one answers
        audit_session.rollback()
        first = _first(session, event_id)
        if first is None:
            raise
        row = first
    return _answer(fmt, hasher, row)


def submission_id(actor: Actor, fields: form.Fields, now: datetime) -> str:
    """The event id of this submission: a digest of the client, every field it sent (but its
    key) and the local day."""
    sent = {k: v for k, v in fields.values.items() if k != "api_key"}
    canonical = json.dumps(
        [actor.label, now.astimezone(SHANGHAI).date().isoformat(), sorted(sent.items()),
         fields.media_urls, sorted(fields.attributes.items())],
        ensure_ascii=False,
    )  # fmt: skip
    return "open311-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _first(session: Session, event_id: str) -> Open311Request | None:
    row = session.exec(select(Open311Request).where(Open311Request.event_id == event_id)).first()
    session.rollback()
    return row


def _answer(fmt: str, hasher: Any, row: Open311Request) -> Response:
    notice = HELD_NOTICE if row.held is not None else "已受理。"
    case_id = row.service_request_id
    return render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": case_id,
                "token": row.event_id,
                "service_notice": f"{notice}查询码 {hasher.tracking_code(case_id)}",
                "account_id": None,
            }
        ],
    )


def _town(
    session: Session,
    settings: Any,
    fields: form.Fields,
    point: tuple[float, float] | None,
    fmt: str,
) -> tuple[str | None, str]:
    """(town, how it was found); (None, "hand") when the hotline centre must decide."""
    named = fields.attributes.get("town", "")
    if named:
        if not reference.is_jurisdiction(named):
            raise Open311Error(
                400, f"attribute[town] {named[:40]!r} 不是本市镇（街道、园区）代码", fmt
            )
        return named, "attribute"
    institution_id = fields.attributes.get("institution_id", "")
    if institution_id:
        institution = session.get(Institution, institution_id[:64])
        session.rollback()
        if institution is not None:
            return institution.town, "institution"
    if point is not None:
        town = boundaries.load(settings.open311_boundaries).town_at(*point)
        if town is not None:
            return town, "boundary"
    if point is None and not fields.get("address_string") and not institution_id:
        raise Open311Error(
            400, "请提供位置：lat 和 long、address_string 或 attribute[town] 至少一项", fmt
        )
    return None, "hand"


def _complaint(
    fields: form.Fields,
    found: Any,
    town: str | None,
    point: tuple[float, float] | None,
    fmt: str,
    event_id: str,
) -> ComplaintReceived:
    anonymous = fields.attributes.get("anonymous", "false").lower() == "true"
    name, phone, email = form.reporter_name(fields), fields.get("phone"), fields.get("email")
    lines = [fields.get("description")] if fields.get("description") else []
    if fields.get("address_string"):
        lines.append(f"地址：{fields.get('address_string')}")
    if point is not None:
        lines.append(f"坐标：{point[0]:.6f},{point[1]:.6f}")
    lines += [f"图片：{url}" for url in fields.media_urls]
    known = {"town", "institution_name", "institution_id", "anonymous"}
    lines += [f"{k}：{v}" for k, v in fields.attributes.items() if k not in known and v][:10]
    try:
        complaint = ComplaintReceived.model_validate(
            {
                "event_id": event_id,
                "occurred_at": datetime.now(UTC),
                "channel": Channel.OPEN311,
                "category": found,
                # Validated with a stand-in when held; the hotline centre sets the town.
                "town": town or "held",
                "institution_id": fields.attributes.get("institution_id") or None,
                "institution_name": fields.attributes.get("institution_name") or None,
                "description": "\n".join(lines) if fields.get("description") else "",
                "anonymous": anonymous,
                "complainant": None
                if anonymous or not (name or phone or email)
                else {"name": name, "phone": phone or None, "email": email or None},
            }
        )
        return check_complaint(complaint) if town is not None else complaint
    except ValidationError as exc:
        raise form.validation_error(exc, fmt) from exc
    except InvalidEvent as exc:
        raise Open311Error(400, f"请求无效：{exc.reason}", fmt) from exc


def _keep(session: Session, row: Open311Request, actor: Actor) -> None:
    session.add(row)
    if row.held is not None:
        audit.append(
            session,
            AuditEntry(
                actor=actor.label,
                actor_role=actor.role,
                actor_unit=actor.unit,
                action="open311.held",
                channel=Channel.OPEN311,
                case_id=row.service_request_id,
                occurred_at=row.received_at,
                reason="位置未能确定所属镇（街道），待12345热线中心人工分派",
                idempotency_key=f"{row.service_request_id}:held",
                details={"event_id": row.event_id, "address": row.address_string},
            ),
        )
    session.commit()


router.include_router(listing.router)
