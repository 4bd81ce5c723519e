"""Intake of inspection findings and camera alarms over HTTP (validated here, produced to their
topics), and the reference lookups the intake pages need."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.concurrency import run_in_threadpool
from kafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import col, select

from api import institution_search
from api.access import sees_all
from api.deps import PublisherDep, SessionDep
from api.errors import ApiError
from api.identity import ActorDep, require
from infra import reference
from infra.intake import InvalidEvent, check_camera_alarm, check_inspection
from infra.kafka import KafkaPublisher
from models import topics
from models.actors import Actor, Role
from models.camera import CameraAlarm, CameraAlarmKind
from models.cases import case_id_for
from models.inspections import (
    FindingStatus,
    InspectionBody,
    InspectionFinding,
    InspectionFindingPublic,
    InspectionReport,
    Severity,
)
from workflows.inspections.activities import findings_to_complaints

router = APIRouter(prefix="/api/v1", tags=["intake"])
INSPECTORS = (Role.DEPARTMENT, Role.TOWN, Role.LEADING_OFFICE, Role.ADMIN)
ALARM_SOURCES = (Role.DEPARTMENT, Role.ADMIN)


async def produce(publisher: KafkaPublisher, topic: str, key: str, value: bytes) -> None:
    try:
        await run_in_threadpool(publisher.publish, topic, key, value)
    except KafkaError as exc:
        raise ApiError(
            503, "broker_unavailable", "系统暂时无法受理，请稍后重试。", repr(exc)
        ) from exc


class InspectionSubmission(InspectionBody):
    event_id: str | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: AwareDatetime | None = None


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
    body: InspectionSubmission,
    publisher: PublisherDep,
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
    await produce(
        publisher, topics.INSPECTIONS, report.institution_id, report.model_dump_json().encode()
    )
    complaints = findings_to_complaints(report)
    catalogue = reference.findings()
    serious = sum(
        1 for f in report.findings if (f.severity or catalogue[f.code].severity) is Severity.SERIOUS
    )
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


@router.post("/alarms", status_code=status.HTTP_202_ACCEPTED, response_model=AlarmAccepted)
async def submit_alarm(
    alarm: CameraAlarm, publisher: PublisherDep, actor: Annotated[Actor, require(*ALARM_SOURCES)]
) -> AlarmAccepted:
    """For camera platforms that do not speak GB/T 28181: the normalised alarm as JSON."""
    if alarm.kind is CameraAlarmKind.DEVICE_OFFLINE:
        raise InvalidEvent(
            "device-offline is raised by the platform from missing keepalives",
            [{"field": "kind", "problem": "not accepted from clients", "type": "unknown_code"}],
        )
    check_camera_alarm(alarm)
    event = alarm.model_copy(update={"source": "api"}).model_dump(mode="json")
    if alarm.person is not None:
        # The topic carries the number as the camera platform sent it; the stream worker
        # hashes it on reading, like every other inbound identity number.
        event["person"]["id_number"] = alarm.person.id_number.get_secret_value()
    await produce(
        publisher,
        topics.CAMERA_ALARMS,
        alarm.device_id,
        json.dumps(event, ensure_ascii=False).encode(),
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
