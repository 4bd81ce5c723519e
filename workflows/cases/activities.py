"""Activities of the case workflow: the only place it touches the database or Kafka."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from temporalio import activity

from infra import audit, reference
from infra.db import SessionFactory
from models import topics
from models.audit import AuditEntry
from models.cases import Case, CaseAssignment, CaseStatus, ComplainantContact, Priority
from models.notifications import Notification, NotificationKind, NotificationRecord
from models.timeutil import SHANGHAI
from models.workflow_io import OpenCaseInput, PublishDispatchesInput, Routing

PRIORITY_NAMES = {
    Priority.CRITICAL: "紧急",
    Priority.HIGH: "高",
    Priority.ORDINARY: "普通",
    Priority.CONSULTATION: "咨询",
}
ACTOR = "system:case-workflow"


class Publisher(Protocol):
    """Sends messages and returns once the broker has acknowledged every one."""

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


def route(town: str, category: reference.CategoryInfo) -> Routing:
    return Routing(priority=category.priority, town=town, lead=category.lead)


class CaseActivities:
    def __init__(self, session_factory: SessionFactory, publisher: Publisher) -> None:
        self._sessions = session_factory
        self._publisher = publisher

    @activity.defn
    def open_case(self, params: OpenCaseInput) -> Routing:
        """Persist the case, its assignments and its first audit record; safe to repeat."""
        complaint = params.complaint
        info = reference.catalogue()[complaint.category]
        routing = route(complaint.town, info)
        now = datetime.now(UTC)
        with self._sessions() as session:
            if session.get(Case, params.case_id) is not None:
                return routing
            session.add(
                Case(
                    id=params.case_id,
                    status=CaseStatus.DISPATCHED,
                    source_event_id=complaint.event_id,
                    received_at=complaint.occurred_at,
                    created_at=now,
                    updated_at=now,
                    workflow_id=params.workflow_id,
                    category=complaint.category,
                    priority=routing.priority,
                    channel=complaint.channel,
                    town=complaint.town,
                    institution_name=complaint.institution_name,
                    description=complaint.description,
                    anonymous=complaint.anonymous,
                )
            )
            session.flush()
            if complaint.complainant is not None and not complaint.anonymous:
                session.add(
                    ComplainantContact(
                        case_id=params.case_id,
                        name=complaint.complainant.name,
                        phone=complaint.complainant.phone,
                    )
                )
            for unit in routing.dispatch_to:
                role = "responsible" if unit == routing.town else "lead"
                session.add(
                    CaseAssignment(case_id=params.case_id, unit=unit, role=role, assigned_at=now)
                )
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="case.opened",
                    channel=complaint.channel,
                    case_id=params.case_id,
                    institution=complaint.institution_name,
                    occurred_at=complaint.occurred_at,
                    idempotency_key=f"{params.case_id}:opened",
                    reason=f"complaint {complaint.event_id}",
                    details={
                        "event_id": complaint.event_id,
                        "category": complaint.category,
                        "priority": routing.priority,
                        "town": complaint.town,
                        "dispatch_to": routing.dispatch_to,
                    },
                ),
            )
            session.commit()
        activity.logger.info(
            "case %s opened, dispatching to %s", params.case_id, routing.dispatch_to
        )
        return routing

    @activity.defn
    def publish_dispatches(self, params: PublishDispatchesInput) -> None:
        """Publish to every recipient (at least once), then record each (exactly once)."""
        notifications = [dispatch_notification(params, unit) for unit in params.recipients]
        self._publisher.publish_all(
            topics.NOTIFICATIONS,
            [(n.recipient, n.model_dump_json().encode("utf-8")) for n in notifications],
        )
        with self._sessions() as session:
            for notification in notifications:
                if session.get(NotificationRecord, notification.event_id) is not None:
                    continue
                session.add(
                    NotificationRecord(
                        event_id=notification.event_id,
                        kind=notification.kind,
                        recipient=notification.recipient,
                        case_id=notification.case_id,
                        title=notification.title,
                        text=notification.text,
                        published_at=datetime.now(UTC),
                    )
                )
                audit.append(
                    session,
                    AuditEntry(
                        actor=ACTOR,
                        action="notification.dispatched",
                        channel="kafka",
                        case_id=params.case_id,
                        institution=params.complaint.institution_name,
                        occurred_at=params.occurred_at,
                        idempotency_key=notification.event_id,
                        details={
                            "recipient": notification.recipient,
                            "topic": topics.NOTIFICATIONS,
                        },
                    ),
                )
            session.commit()


def dispatch_notification(params: PublishDispatchesInput, recipient: str) -> Notification:
    complaint = params.complaint
    info = reference.catalogue()[complaint.category]
    unit = reference.units()[recipient]
    institution = complaint.institution_name or "未具名机构"
    received = complaint.occurred_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")
    title = f"【派单】{info.name}（{PRIORITY_NAMES[params.priority]}）{params.case_id}"
    text = (
        f"{unit.name}：\n"
        f"现将案件 {params.case_id} 派送你单位办理。\n"
        f"类别：{info.name}；优先级：{PRIORITY_NAMES[params.priority]}；"
        f"所在镇（街道）：{reference.units()[complaint.town].name}；机构：{institution}。\n"
        f"受理时间：{received}（北京时间）。\n"
        f"反映内容：{complaint.description}\n"
        "请按规定时限签收并办理。"
    )
    return Notification(
        event_id=params.event_id(recipient),
        occurred_at=params.occurred_at,
        kind=NotificationKind.DISPATCH,
        recipient=recipient,
        case_id=params.case_id,
        priority=params.priority,
        title=title,
        text=text,
    )
