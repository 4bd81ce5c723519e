"""Audit queries: by case, institution, unit, action and time, in sequence order (oldest or
newest first), by pages that follow the sequence number (an index range scan, however deep
the page: keyset, never an offset)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.audit import AuditPage, AuditQuery, AuditRecord


def query(session: Session, q: AuditQuery) -> AuditPage:
    statement = select(AuditRecord).where(AuditRecord.seq > q.after_seq)
    if q.case_id is not None:
        statement = statement.where(AuditRecord.case_id == q.case_id)
    if q.institution is not None:
        statement = statement.where(AuditRecord.institution == q.institution)
    if q.person_hash is not None:
        statement = statement.where(AuditRecord.person_hash == q.person_hash)
    if q.actor_unit is not None:
        statement = statement.where(AuditRecord.actor_unit == q.actor_unit)
    if q.action is not None:
        statement = statement.where(AuditRecord.action == q.action)
    if q.since is not None:
        statement = statement.where(col(AuditRecord.occurred_at) >= q.since)
    if q.until is not None:
        statement = statement.where(col(AuditRecord.occurred_at) < q.until)
    if q.before_seq is not None:
        statement = statement.where(AuditRecord.seq < q.before_seq)
    order = col(AuditRecord.seq).desc() if q.newest_first else col(AuditRecord.seq)
    rows = list(session.exec(statement.order_by(order).limit(q.limit + 1)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    last = rows[-1].seq if more else None
    if q.newest_first:
        return AuditPage(records=rows, next_after_seq=None, next_before_seq=last)
    return AuditPage(records=rows, next_after_seq=last)
