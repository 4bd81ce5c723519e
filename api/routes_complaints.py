"""Intake of complaints over HTTP: validated here, then produced to `tuoyu.complaints`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool
from kafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import HasherDep, PublisherDep, VaultDep
from api.errors import ApiError
from api.identity import WriterDep
from infra.intake import check_complaint
from models import topics
from models.actors import Role
from models.cases import case_id_for
from models.complaints import ComplaintBody, ComplaintReceived

router = APIRouter(prefix="/api/v1", tags=["complaints"])


class ComplaintSubmission(ComplaintBody):
    """A complaint as a client sends it; a client that retries should send its own event_id."""

    event_id: str | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: AwareDatetime | None = None


class ComplaintAccepted(BaseModel):
    case_id: str
    event_id: str
    tracking_code: str = Field(description="with the case id, lets the caller ask for progress")
    status_url: str
    message: str


@router.post("/complaints", status_code=status.HTTP_202_ACCEPTED, response_model=ComplaintAccepted)
async def submit_complaint(
    body: ComplaintSubmission,
    publisher: PublisherDep,
    hasher: HasherDep,
    vault: VaultDep,
    actor: WriterDep,
) -> ComplaintAccepted:
    # The caller's contact is sealed before it leaves this process: the topic, the workflow
    # and its history carry only ciphertext (GET /cases/{id}/complainant opens it).
    complaint = vault.sealed_complaint(
        check_complaint(
            ComplaintReceived.model_validate(
                {
                    **body.model_dump(exclude={"event_id", "occurred_at"}),
                    "event_id": body.event_id or f"http-{uuid.uuid4()}",
                    "occurred_at": body.occurred_at or datetime.now(UTC),
                    "taken_by": actor.name if actor.role is Role.OPERATOR else None,
                }
            )
        )
    )
    try:
        await run_in_threadpool(
            publisher.publish,
            topics.COMPLAINTS,
            complaint.event_id,
            complaint.model_dump_json().encode("utf-8"),
        )
    except KafkaError as exc:
        raise ApiError(
            503, "broker_unavailable", "系统暂时无法受理，请稍后重试。", repr(exc)
        ) from exc
    case_id = case_id_for(complaint.event_id, complaint.occurred_at)
    code = hasher.tracking_code(case_id)
    return ComplaintAccepted(
        case_id=case_id,
        event_id=complaint.event_id,
        tracking_code=code,
        status_url=f"/api/v1/cases/{case_id}",
        message=(
            f"已受理，案件编号 {case_id}，查询码 {code}。请告知来电人凭编号和查询码查询办理进度。"
        ),
    )
