"""Intake of inspection findings and camera alarms over HTTP (validated here, produced to their
topics), and the reference lookups the intake pages need."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from kafka.errors import KafkaError
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api import institution_search, intake_keys
from api.access import sees_all
from api.deps import HasherDep, SessionDep, VaultDep
from api.errors import ApiError, dead_letter
from api.identity import ActorDep, require
from infra import reference
from infra.intake import InvalidEvent, check_camera_alarm, check_inspection
from infra.kafka import KafkaPublisher
from infra.vault import IDENTITY
from models import topics
from models.actors import Actor, Role
from models.bounds import EventTime, Line, fingerprint
from models.camera import CameraAlarm, CameraAlarmKind
from models.cases import case_id_for
from models.inspections import (
    FindingStatus,
    InspectionBody,
    InspectionFinding,
    InspectionFindingPublic,
    InspectionReport,
)
from models.intake import IntakeKey
from workflows.inspections.rules import findings_to_complaints, is_serious

router = APIRouter(prefix="/api/v1", tags=["intake"])
REUSED = "event_id reused with different content"
INSPECTORS = (Role.DEPARTMENT, Role.TOWN, Role.LEADING_OFFICE, Role.ADMIN)
ALARM_SOURCES = (Role.DEPARTMENT, Role.ADMIN)


async def produce_once(
    request: Request,
    *,
    event_id: str,
    fingerprint: str,
    case_id: str | None,
    topic: str,
    key: str,
    value: bytes,
) -> IntakeKey:
    """Produce an event accepted over HTTP once per event id: a retry with the same content
    gets the first answer back (nothing produced again); the same id with other content is
    refused with 409 and dead-lettered, and learns nothing of the first submission."""
    channel = f"http {request.method} {request.url.path}"
    publisher: KafkaPublisher = request.app.state.publisher
    try:
        return await run_in_threadpool(
            intake_keys.produce_once,
            request.app.state.audit_sessions,
            event_id=event_id,
            fingerprint=fingerprint,
            channel=channel,
            case_id=case_id,
            produce=lambda: publisher.publish(topic, key, value),
        )
    except intake_keys.KeyReused as exc:
        await dead_letter(request, REUSED)
        raise ApiError(
            409,
            "event_id_reused",
            f"事件编号 {event_id} 已用于另一份内容不同的提交，不能重复使用。"
            "请为新的提交使用新的事件编号（或不填，由系统生成）。",
            {"field": "event_id", "type": "event_id_reused"},
        ) from exc
    except KafkaError as exc:
        raise ApiError(
            503, "broker_unavailable", "系统暂时无法受理，请稍后重试。", repr(exc)
        ) from exc


class InspectionSubmission(InspectionBody):
    event_id: Line | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: EventTime | None = None


class InspectionAccepted(BaseModel):
    event_id: str
    serious: int
    minor: int
    case_ids: list[str] = Field(description="cases the serious findings open (or join)")
    message: str


@router.post(
    "/inspections", status_code=status.HTTP_202_ACCEPTED, response_model=InspectionAccepted
)
async def submit_inspection(
    request: Request,
    body: InspectionSubmission,
    actor: Annotated[Actor, require(*INSPECTORS)],
) -> InspectionAccepted:
    if actor.role in (Role.DEPARTMENT, Role.TOWN) and body.inspector_unit != actor.unit:
        raise ApiError(403, "forbidden", "只能以本单位名义提交检查结果。")
    report = check_inspection(
        InspectionReport.model_validate(
            {
                **body.model_dump(exclude={"event_id", "occurred_at"}),
                "event_id": body.event_id or f"http-{uuid.uuid4()}",
                "occurred_at": body.occurred_at or datetime.now(UTC),
            }
        )
    )
    await produce_once(
        request,
        event_id=report.event_id,
        fingerprint=fingerprint({"body": body.model_dump(mode="json"), "caller": actor.name}),
        case_id=None,
        topic=topics.INSPECTIONS,
        key=report.institution_id,
        value=report.model_dump_json().encode(),
    )
    complaints = findings_to_complaints(report)
    serious = sum(1 for f in report.findings if is_serious(f))
    case_ids = [case_id_for(c.event_id, c.occurred_at) for c in complaints]
    return InspectionAccepted(
        event_id=report.event_id,
        serious=serious,
        minor=len(report.findings) - serious,
        case_ids=case_ids,
        message=f"已受理：严重问题 {serious} 项转立案办理，一般问题 "
        f"{len(report.findings) - serious} 项列入限期整改。",
    )


class AlarmAccepted(BaseModel):
    event_id: str
    message: str


PLATFORM_KINDS = (
    CameraAlarmKind.DEVICE_OFFLINE,
    CameraAlarmKind.REGISTERED,
    CameraAlarmKind.UNREGISTERED,
)


@router.post("/alarms", status_code=status.HTTP_202_ACCEPTED, response_model=AlarmAccepted)
async def submit_alarm(
    request: Request,
    alarm: CameraAlarm,
    hasher: HasherDep,
    vault: VaultDep,
    actor: Annotated[Actor, require(*ALARM_SOURCES)],
) -> AlarmAccepted:
    """For camera platforms that do not speak GB/T 28181: the normalised alarm as JSON."""
    if alarm.kind in PLATFORM_KINDS:
        raise InvalidEvent(
            f"{alarm.kind.value} is raised by the platform (SIP registration and keepalives)",
            [{"field": "kind", "problem": "not accepted from clients", "type": "unknown_code"}],
        )
    if alarm.person_ref is not None or alarm.person_sealed is not None:
        raise InvalidEvent(
            "person_ref and person_sealed are made by the platform",
            [{"field": "person", "problem": "send the person in clear", "type": "extra"}],
        )
    check_camera_alarm(alarm)
    update: dict[str, object] = {"source": "api"}
    if alarm.person is not None:
        # The number never reaches the topic in clear: the keyed hash (the ban check) and the
        # masked form (display) travel, and the number itself sealed for this alarm only.
        clear = alarm.person.id_number.get_secret_value()
        update |= {
            "person": None,
            "person_ref": hasher.ref(alarm.person),
            "person_sealed": vault.seal(clear.encode(), f"{IDENTITY}:{alarm.event_id}"),
        }
    event = alarm.model_copy(update=update).model_dump(mode="json")
    # The fingerprint sees the person by keyed hash (person_ref), never the sealed number:
    # two seals of one number differ, and an unkeyed digest of a number could be guessed back.
    seen = {k: v for k, v in event.items() if k != "person_sealed"}
    await produce_once(
        request,
        event_id=alarm.event_id,
        fingerprint=fingerprint({"body": seen, "caller": actor.name}),
        case_id=None,
        topic=topics.CAMERA_ALARMS,
        key=alarm.device_id,
        value=json.dumps(event, ensure_ascii=False).encode(),
    )
    return AlarmAccepted(event_id=alarm.event_id, message="报警已接收。")


class InstitutionPublic(BaseModel):
    id: str
    name: str
    town: str
    town_name: str


@router.get("/institutions", response_model=list[InstitutionPublic])
def search_institutions(
    session: SessionDep,
    actor: ActorDep,
    q: str = Query(
        default="",
        max_length=50,
        description="parts of the name in any order, or its pinyin initials (e.g. bbty)",
    ),
    town: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=20, ge=1, le=100),
) -> list[InstitutionPublic]:
    units = reference.units()
    return [
        InstitutionPublic(
            id=i.id,
            name=i.name,
            town=i.town,
            town_name=units[i.town].name if i.town in units else i.town,
        )
        for i in institution_search.search(session, q, town, limit)
    ]


@router.get("/findings", response_model=list[InspectionFindingPublic])
def list_findings(
    session: SessionDep,
    actor: ActorDep,
    institution_id: str | None = Query(default=None, max_length=64),
    status_: Annotated[FindingStatus | None, Query(alias="status")] = None,
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[InspectionFinding]:
    """Findings and rectification items. Towns see their jurisdiction's."""
    query = select(InspectionFinding)
    if not may_see_all_findings(actor):
        query = query.where(InspectionFinding.town == actor.unit)
    if institution_id:
        query = query.where(InspectionFinding.institution_id == institution_id)
    if status_ is not None:
        query = query.where(InspectionFinding.status == status_)
    query = query.order_by(col(InspectionFinding.found_at).desc(), col(InspectionFinding.id))
    return list(session.exec(query.offset(offset).limit(limit)).all())


def may_see_all_findings(actor: Actor) -> bool:
    return sees_all(actor) or actor.role is Role.DEPARTMENT
