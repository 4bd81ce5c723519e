"""Intake of complaints over HTTP: validated here, then produced to `tuoyu.complaints`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import HasherDep, SessionDep, VaultDep
from api.errors import ApiError
from api.identity import WriterDep
from api.routes_desk import phone_hash
from api.routes_intake import produce_once
from infra import duplicates
from infra.intake import check_complaint
from models import topics
from models.actors import Role
from models.bounds import EventTime, Line, fingerprint
from models.cases import case_id_for
from models.complaints import Channel, ComplaintBody, ComplaintReceived
from models.deadlines import DeadlinePolicy

router = APIRouter(prefix="/api/v1", tags=["complaints"])
# The ways a person brings a complaint to a staff member. `open311`, `camera` and
# `inspection` are set by the server on their own routes and never taken from a body here.
STAFF_CHANNELS = (Channel.HOTLINE, Channel.WEB, Channel.MAIL, Channel.VISIT, Channel.OTHER)


class ComplaintSubmission(ComplaintBody):
    """A complaint as a client sends it; a client that retries should send its own event_id."""

    event_id: Line | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: EventTime | None = None


class ComplaintAccepted(BaseModel):
    case_id: str
    event_id: str
    tracking_code: str = Field(description="with the case id, lets the caller ask for progress")
    status_url: str
    message: str
    relation: Literal["merged", "linked"] | None = Field(
        default=None,
        description="merged: joins the open case `related_case`; linked: a new case linked to "
        "the earlier case `related_case`, which already has its result",
    )
    related_case: str | None = None
    direct_answer: bool = Field(default=False, description="closed at once as 直接答复")


@router.post("/complaints", status_code=status.HTTP_202_ACCEPTED, response_model=ComplaintAccepted)
async def submit_complaint(
    request: Request,
    body: ComplaintSubmission,
    hasher: HasherDep,
    vault: VaultDep,
    actor: WriterDep,
    session: SessionDep,
) -> ComplaintAccepted:
    if body.channel not in STAFF_CHANNELS:
        raise ApiError(
            422,
            "channel_not_allowed",
            "该渠道由系统按提交途径设定，不能在此指定；请选择热线、网站、信函、来访或其他。",
            {"channel": body.channel, "allowed": list(STAFF_CHANNELS)},
        )
    phone = body.complainant.phone if body.complainant and not body.anonymous else None
    # The caller's contact is sealed before it leaves this process: the topic, the workflow
    # and its history carry only ciphertext (GET /cases/{id}/complainant opens it). The
    # caller's keyed phone hash (caller history) is taken before sealing.
    complaint = vault.sealed_complaint(
        check_complaint(
            ComplaintReceived.model_validate(
                {
                    **body.model_dump(exclude={"event_id", "occurred_at"}),
                    "event_id": body.event_id or f"http-{uuid.uuid4()}",
                    "occurred_at": body.occurred_at or datetime.now(UTC),
                    "taken_by": actor.name if actor.role is Role.OPERATOR else None,
                    "caller_hash": phone_hash(hasher, phone) if phone else None,
                }
            )
        )
    )
    relation, related = await run_in_threadpool(
        _relation, session, complaint, request.app.state.policy
    )
    session.rollback()
    # Same id, same content (what was sent, and who sent it): the first answer again. The
    # case id is the one first given: a retry without `occurred_at` on another day would
    # otherwise compute another.
    accepted = await produce_once(
        request,
        event_id=complaint.event_id,
        fingerprint=fingerprint({"body": body.model_dump(mode="json"), "caller": actor.name}),
        case_id=case_id_for(complaint.event_id, complaint.occurred_at),
        topic=topics.COMPLAINTS,
        key=complaint.event_id,
        value=complaint.model_dump_json().encode("utf-8"),
    )
    case_id = accepted.case_id or case_id_for(complaint.event_id, complaint.occurred_at)
    if related == case_id:
        # A repeat of this very submission, after its own case opened: that is not another
        # case to join (the first answer said nothing of one either).
        relation, related = None, None
    code = hasher.tracking_code(case_id)
    message = f"已受理，案件编号 {case_id}，查询码 {code}。请告知来电人凭编号和查询码查询办理进度。"
    if complaint.direct_answer is not None:
        message = f"已直接答复并办结，案件编号 {case_id}。"
    elif relation == "merged":
        message += f"该机构同类问题案件 {related} 正在办理，本次反映将并入该案一并办理。"
    elif relation == "linked":
        message += f"该机构同类问题前案 {related} 已反馈结果，本次另立新案并与前案关联。"
    return ComplaintAccepted(
        case_id=case_id,
        event_id=complaint.event_id,
        tracking_code=code,
        status_url=f"/api/v1/cases/{case_id}",
        message=message,
        relation=relation,
        related_case=related,
        direct_answer=complaint.direct_answer is not None,
    )


def _relation(
    session: Session, complaint: ComplaintReceived, policy: DeadlinePolicy
) -> tuple[Literal["merged", "linked"] | None, str | None]:
    """What the case workflow will find, told to the operator before the call ends (the
    workflow decides for itself when the report arrives, by the same rules)."""
    if complaint.direct_answer is not None:
        return None, None
    key = duplicates.key_for(session, complaint)
    if key is None:
        return None, None
    window = policy.duplicate_window
    target = duplicates.open_duplicate(session, complaint, key, window, lock=False)
    if target is not None:
        return "merged", target
    done = duplicates.done_case(session, complaint, key, window)
    return ("linked", done) if done is not None else (None, None)
