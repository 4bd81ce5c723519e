"""Photos and documents on a case (投诉材料, 办理结果, 复查): uploaded as multipart forms,
checked by size and by their first bytes (JPEG, PNG, PDF only), kept in the database by
SHA-256 (never in the workflow), each upload an audit record with its digest. Only those who
may see the case list or read them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import col, select

from api.access import case_for
from api.deps import AuditSessionDep, SessionDep
from api.errors import ApiError
from api.identity import ActingDep, ActorDep
from infra import audit
from models.attachments import Attachment, AttachmentPublic, AttachmentPurpose
from models.audit import AuditEntry

router = APIRouter(prefix="/api/v1/cases/{case_id}/attachments", tags=["attachments"])

# Magic bytes: what the file is, whatever its name or declared type says.
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


PURPOSE_NAMES = {
    AttachmentPurpose.COMPLAINT: "投诉材料",
    AttachmentPurpose.RESULT: "办理结果",
    AttachmentPurpose.REINSPECTION: "复查",
    AttachmentPurpose.OTHER: "其他",
}


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def public(a: Attachment) -> AttachmentPublic:
    return AttachmentPublic(
        **a.model_dump(exclude={"data"}),
        url=f"/api/v1/cases/{a.case_id}/attachments/{a.sha256}",
    )


@router.post("", status_code=201, response_model=AttachmentPublic, summary="上传附件")
async def upload(
    case_id: str,
    request: Request,
    session: SessionDep,
    audit_session: AuditSessionDep,
    actor: ActingDep,
    file: Annotated[UploadFile, File(description="JPEG、PNG 或 PDF")],
    purpose: Annotated[AttachmentPurpose, Form()] = AttachmentPurpose.COMPLAINT,
) -> AttachmentPublic:
    case = case_for(session, actor, case_id)
    cap: int = request.app.state.settings.attachment_max_bytes
    data = await file.read(cap + 1)
    if len(data) > cap:
        raise ApiError(
            413,
            "attachment_too_large",
            f"附件过大（上限 {cap // (1024 * 1024)} MB），请压缩后重新上传。",
            {"max_bytes": cap},
        )
    if not data:
        raise ApiError(422, "attachment_empty", "附件为空，请重新选择文件。")
    kind = sniff(data)
    if kind is None:
        raise ApiError(
            415,
            "attachment_type",
            "仅支持上传 JPEG、PNG 图片或 PDF 文档。",
            {"declared": file.content_type},
        )
    digest = hashlib.sha256(data).hexdigest()
    name = (file.filename or f"{digest[:12]}").replace("\x00", "")[-200:] or digest[:12]
    existing = session.get(Attachment, (case_id, digest))
    if existing is not None:
        return public(existing)
    now = datetime.now(UTC)
    attachment = Attachment(
        case_id=case_id,
        sha256=digest,
        filename=name,
        content_type=kind,
        size=len(data),
        purpose=purpose,
        uploaded_by=actor.label,
        uploaded_at=now,
        data=data,
    )
    audit_session.add(attachment)
    audit.append(
        audit_session,
        AuditEntry(
            actor=actor.label,
            actor_role=actor.role,
            actor_unit=actor.unit,
            action="attachment.added",
            channel="http",
            case_id=case_id,
            institution=case.institution_name,
            occurred_at=now,
            idempotency_key=f"{case_id}:attachment:{digest}",
            reason=f"上传附件（{PURPOSE_NAMES[purpose]}）",
            details={"sha256": digest, "size": len(data), "type": kind, "purpose": purpose},
        ),
    )
    audit_session.commit()
    return public(attachment)


@router.get("", response_model=list[AttachmentPublic], summary="附件列表")
def list_attachments(case_id: str, session: SessionDep, actor: ActorDep) -> list[AttachmentPublic]:
    case_for(session, actor, case_id)
    rows = session.exec(
        select(Attachment)
        .where(Attachment.case_id == case_id)
        .order_by(col(Attachment.uploaded_at))
    ).all()
    return [public(a) for a in rows]


@router.get("/{sha256}", summary="下载附件", response_class=Response)
def read_attachment(case_id: str, sha256: str, session: SessionDep, actor: ActorDep) -> Response:
    case_for(session, actor, case_id)
    attachment = session.get(Attachment, (case_id, sha256.lower()))
    if attachment is None:
        raise ApiError(404, "attachment_not_found", "未找到该附件。")
    return Response(
        content=attachment.data,
        media_type=attachment.content_type,
        headers={
            "x-content-sha256": attachment.sha256,
            "x-content-type-options": "nosniff",
            "content-disposition": "inline",
        },
    )
