"""The real activities, except that an input carrying `REFUSED_BY_DATABASE` fails as the
database fails for a value it refuses (the `DataError` PostgreSQL raises), on SQLite and
PostgreSQL alike. Registered under the activities' own names on the time-skipping worker.

Used where no input that passes the bounded models (models/bounds.py) fails in the real
activity: inspection rows are upserted and the audit trail skips keys it holds; a note's text
may hold no NUL any more. Every other input runs the real activity."""

from __future__ import annotations

from sqlalchemy.exc import DataError
from temporalio import activity

from models.inspections import InspectionReport
from models.workflow_io import RecordStep
from workflows.cases.activities import CaseActivities
from workflows.inspections.activities import InspectionActivities, InspectionResult

REFUSED_BY_DATABASE = "【数据库拒绝】"


def refused(table: str) -> DataError:
    return DataError(f"INSERT INTO {table}", None, ValueError("value refused by the database"))


class RefusingCaseActivities(CaseActivities):
    @activity.defn(name="record_step")
    def record_step(self, step: RecordStep) -> None:
        if REFUSED_BY_DATABASE in (step.reason or ""):
            raise refused("audit_records")
        super().record_step(step)


class RefusingInspectionActivities(InspectionActivities):
    @activity.defn(name="record_inspection")
    def record_inspection(self, report: InspectionReport) -> InspectionResult:
        if any(REFUSED_BY_DATABASE in (f.note or "") for f in report.findings):
            raise refused("inspection_findings")
        return super().record_inspection(report)
