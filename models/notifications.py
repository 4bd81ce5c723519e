"""Outbound messages on `tuoyu.notifications` and `tuoyu.dead-letter`."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class NotificationKind(StrEnum):
    DISPATCH = "dispatch"  # 派单: a case to handle
    REMINDER = "reminder"  # 催办: acceptance overdue
    ESCALATION = "escalation"  # 升级: taken up to the city
    NOTICE_INTERVIEW = "notice-interview"  # 通报约谈: to the leading group office
    ASSISTANCE = "assistance"  # 协办: asked to help
    WITHDRAWN = "withdrawn"  # the case was taken from this unit
    DECISION = "decision"  # 处理决定: a sanction, to the registrar and the town
    REINSPECTION_FAILED = "reinspection-failed"  # 复查不合格
    BAN_ALERT = "ban-alert"  # 禁入人员预警: a banned person found applying or employed
    PRIOR_NOTICE = "prior-notice"  # 事先告知: joint punishment ahead, right to object
    JOINT_PUNISHMENT = "joint-punishment"  # 联合惩戒: the measures a department applies
    CREDIT_REMOVAL = "credit-removal"  # 信用信息移出
    CREDIT_LIFTING = "credit-lifting"  # 解除惩戒: a department lifts its measures (Order 36)
    RECTIFICATION = "rectification"  # 整改通知: minor inspection findings, with a deadline
    PROCESSING_FAILED = "processing-failed"  # 处理异常: a step of a case could not be recorded
    SUPERVISION = "supervision"  # 督办: an order of the leading group office, with a deadline
    RETURN_REVIEW = "return-review"  # 退单审核: a unit's return, to the hotline centre
    EXTENSION = "extension"  # 延期申请 and its decision
    LINKED = "linked"  # another report about the same institution and concern


class Notification(BaseModel):
    """One message to one unit. `event_id` is stable across retries so receivers can dedupe."""

    event_id: str
    occurred_at: AwareDatetime
    kind: NotificationKind
    recipient: str = Field(description="unit code; also the Kafka key")
    case_id: str | None = None
    priority: str
    due_at: AwareDatetime | None = Field(default=None, description="when the unit must act")
    title: str
    text: str


class NotificationRecord(SQLModel, table=True):
    """A notification as published, recorded once however often it was sent."""

    __tablename__ = "notifications"

    event_id: str = SQLField(primary_key=True, max_length=160)
    kind: NotificationKind = SQLField(sa_type=String(24))
    recipient: str = SQLField(max_length=64, index=True)
    case_id: str | None = SQLField(default=None, max_length=32, index=True)
    title: str = SQLField(max_length=200)
    text: str
    published_at: datetime


class DeadLetterSource(BaseModel):
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    channel: str | None = None


class ClaimCheck(BaseModel):
    """Where the original bytes of a dead letter too large for the broker were kept."""

    sha256: str = Field(description="hex SHA-256 of the original bytes")
    size: int = Field(description="bytes")
    location: str = Field(description="file path relative to the data directory")


class DeadLetter(BaseModel):
    """A rejected input, with everything needed to inspect it and send it again."""

    event_id: str
    occurred_at: AwareDatetime
    source: DeadLetterSource
    reason: str
    original_base64: str = Field(description="empty when the original is in `claim_check`")
    claim_check: ClaimCheck | None = Field(
        default=None, description="set when the original was too large to travel on the topic"
    )

    @classmethod
    def of(cls, original: bytes, reason: str, source: DeadLetterSource) -> DeadLetter:
        digest = hashlib.sha256(original).hexdigest()[:16]
        where = (
            f"{source.topic}:{source.partition}:{source.offset}"
            if source.topic is not None
            else f"{source.channel}:{digest}"
        )
        return cls(
            event_id=f"dead-letter:{where}",
            occurred_at=datetime.now(UTC),
            source=source,
            reason=reason,
            original_base64=base64.b64encode(original).decode("ascii"),
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_base64)
