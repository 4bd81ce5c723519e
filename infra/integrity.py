"""Writing to and reading institutions' integrity files (诚信档案)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from infra.csvcells import cell
from models.integrity import IntegrityKind, IntegrityRecord, IntegrityRecordPublic
from models.timeutil import SHANGHAI

CSV_COLUMNS = ["occurred_at", "kind", "case_id", "institution_name", "summary", "key"]


def append(
    session: Session,
    *,
    key: str,
    institution_key: str | None,
    institution_name: str | None,
    kind: IntegrityKind,
    summary: str,
    occurred_at: datetime,
    case_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one entry in the caller's transaction, once per key. Cases about an unnamed
    institution have no file to add to."""
    if institution_key is None or session.get(IntegrityRecord, key) is not None:
        return
    session.add(
        IntegrityRecord(
            key=key,
            institution_key=institution_key,
            institution_name=institution_name,
            kind=kind,
            case_id=case_id,
            summary=summary,
            occurred_at=occurred_at,
            details=details or {},
        )
    )


def file_of(session: Session, institution_key: str) -> list[IntegrityRecord]:
    return list(
        session.exec(
            select(IntegrityRecord)
            .where(IntegrityRecord.institution_key == institution_key)
            .order_by(col(IntegrityRecord.occurred_at), col(IntegrityRecord.key))
        ).all()
    )


# What the public credit platform itself shows: decisions and the entry's publication and
# removal. Complaint outcomes and re-inspections quote findings; bans name persons; a
# notice is not public before the objection period ends. The credit commitment is public by
# Order 36 (公开作出信用承诺).
PUBLIC_KINDS = (
    IntegrityKind.DECISION,
    IntegrityKind.CREDIT_ENTRY,
    IntegrityKind.CREDIT_REMOVAL,
    IntegrityKind.CREDIT_COMMITMENT,
)


def public_view(records: list[IntegrityRecordPublic]) -> list[IntegrityRecordPublic]:
    return [
        r.model_copy(update={"case_id": None, "details": {}})
        for r in records
        if r.kind in PUBLIC_KINDS
    ]


def to_csv(records: list[IntegrityRecordPublic]) -> str:
    """CSV with a byte-order mark so that spreadsheet programs read the Chinese right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        row = [
            r.occurred_at.astimezone(SHANGHAI).isoformat(),
            r.kind,
            r.case_id or "",
            r.institution_name or "",
            r.summary,
            r.key,
        ]
        writer.writerow([cell(v) for v in row])  # no formula injection
    return out.getvalue()
