"""Recording an inspection report: findings kept, rectification items notified to the town,
serious findings turned into the complaints that open (or join) their cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from temporalio import activity

from infra import audit, notify, reference
from infra.db import SessionFactory
from models.audit import AuditEntry
from models.cases import case_id_for
from models.complaints import ComplaintReceived
from models.inspections import (
    FindingStatus,
    InspectionFinding,
    InspectionReport,
    Severity,
)
from models.notifications import Notification, NotificationKind
from models.timeutil import SHANGHAI
from workflows.inspections.rules import KIND_NAMES, findings_to_complaints, severity_of

ACTOR = "system:inspections"


class InspectionResult(BaseModel):
    complaints: list[ComplaintReceived] = []
    rectification_items: int = 0


class InspectionActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def all(self) -> list[Any]:
        return [self.record_inspection]

    @activity.defn
    def record_inspection(self, report: InspectionReport) -> InspectionResult:
        """Safe to repeat: rows by finding id, notifications by event id; the complaints are
        returned every time, so a repeat after a crash still opens the cases."""
        complaints = findings_to_complaints(report)
        case_of = {c.category: case_id_for(c.event_id, c.occurred_at) for c in complaints}
        catalogue = reference.findings()
        rows: list[InspectionFinding] = []
        for i, finding in enumerate(report.findings):
            info = catalogue[finding.code]
            severity = severity_of(finding)
            serious = severity is Severity.SERIOUS
            rows.append(
                InspectionFinding(
                    id=f"{report.event_id}:{i}",
                    event_id=report.event_id,
                    kind=report.kind,
                    institution_id=report.institution_id,
                    institution_name=report.institution_name,
                    town=report.town,
                    inspector_unit=report.inspector_unit,
                    code=finding.code,
                    severity=severity,
                    note=finding.note,
                    status=FindingStatus.CASE if serious else FindingStatus.OPEN,
                    case_id=case_of[info.category] if serious else None,
                    found_at=report.occurred_at,
                    due_at=None
                    if serious
                    else report.occurred_at + timedelta(days=info.rectify_days),
                )
            )
        items = [r for r in rows if r.status is FindingStatus.OPEN]
        result = InspectionResult(complaints=complaints, rectification_items=len(items))
        with self._sessions() as session:
            if audit.exists(session, f"inspection:{report.event_id}"):
                return result  # a replay: recorded and notified before
            self._record(session, report, rows, rectification_notices(report, items))
            session.commit()
        return result

    @staticmethod
    def _record(
        session: Session,
        report: InspectionReport,
        rows: list[InspectionFinding],
        notices: list[Notification],
    ) -> None:
        for row in rows:
            session.merge(row)
        notify.record(session, notices, report.institution_name or report.institution_id)
        audit.append(
            session,
            AuditEntry(
                actor=f"unit:{report.inspector_unit}",
                action="inspection.recorded",
                channel="kafka",
                institution=report.institution_name or report.institution_id,
                occurred_at=report.occurred_at,
                idempotency_key=f"inspection:{report.event_id}",
                details={
                    "event_id": report.event_id,
                    "kind": report.kind,
                    "institution_id": report.institution_id,
                    "findings": [
                        {"code": r.code, "severity": r.severity, "case_id": r.case_id} for r in rows
                    ],
                },
            ),
        )


def rectification_notices(
    report: InspectionReport, items: list[InspectionFinding]
) -> list[Notification]:
    """One notice to the town listing the institution's minor findings and their deadlines."""
    if not items:
        return []
    catalogue = reference.findings()
    place = report.institution_name or report.institution_id
    due = min(i.due_at for i in items if i.due_at is not None)
    lines = [
        f"{n}. {catalogue[i.code].name}"
        + (f"（{i.note}）" if i.note else "")
        + f"，{i.due_at.astimezone(SHANGHAI):%Y年%m月%d日}前整改到位"
        for n, i in enumerate(items, 1)
        if i.due_at is not None
    ]
    return [
        Notification(
            event_id=f"inspection:{report.event_id}:rectification",
            occurred_at=report.occurred_at,
            kind=NotificationKind.RECTIFICATION,
            recipient=report.town,
            priority="ordinary",
            due_at=due,
            title=f"【整改通知】{place}：{len(items)} 项问题限期整改",
            text=(
                f"{KIND_NAMES[report.kind]}发现{place}存在以下问题，请督促其限期整改并组织复查：\n"
                + "\n".join(lines)
            ),
        )
    ]
