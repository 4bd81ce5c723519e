"""Audit queries: by case, institution, unit, action and time, in sequence order, by pages
that follow the sequence number (an index range scan, however deep the page)."""

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
    rows = list(session.exec(statement.order_by(col(AuditRecord.seq)).limit(q.limit + 1)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return AuditPage(records=rows, next_after_seq=rows[-1].seq if more else None)
