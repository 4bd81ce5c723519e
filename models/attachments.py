"""Photos and documents on a case: a complaint's evidence, a result, a re-inspection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import LargeBinary, String
from sqlmodel import Field, SQLModel


class AttachmentPurpose(StrEnum):
    COMPLAINT = "complaint"  # 投诉材料
    RESULT = "result"  # 办理结果
    REINSPECTION = "reinspection"  # 复查
    OTHER = "other"


class Attachment(SQLModel, table=True):
    """Stored in the database, outside the workflow: the bytes never travel through Temporal.
    Named by SHA-256; the same file on the same case is stored once."""

    __tablename__ = "attachments"

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=32)
    sha256: str = Field(primary_key=True, max_length=64)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=64)
    size: int
    purpose: AttachmentPurpose = Field(sa_type=String(16))
    uploaded_by: str = Field(max_length=160)
    uploaded_at: datetime
    data: bytes = Field(sa_type=LargeBinary)


class AttachmentPublic(BaseModel):
    case_id: str
    sha256: str
    filename: str
    content_type: str
    size: int
    purpose: AttachmentPurpose
    uploaded_by: str
    uploaded_at: datetime
    url: str
