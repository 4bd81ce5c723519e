"""Appending to the hash-chained audit trail, and checking it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from infra.signing import AuditSigner, signature_valid
from models.audit import GENESIS_HASH, AuditCheckpoint, AuditEntry, AuditHead, AuditRecord


def append(session: Session, entry: AuditEntry) -> AuditRecord:
    """Add one record in the caller's transaction; the caller commits.

    The head row is locked (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so writers
    in several processes extend one chain. An entry whose idempotency key is already in the
    trail is not written again: activities may run more than once.
    """
    if entry.idempotency_key is not None:
        existing = session.exec(
            select(AuditRecord).where(AuditRecord.idempotency_key == entry.idempotency_key)
        ).first()
        if existing is not None:
            return existing
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
    record = AuditRecord(
        **entry.model_dump(),
        seq=head.seq + 1,
        recorded_at=datetime.now(UTC),
        prev_hash=head.hash,
        hash="",
    )
    record.hash = record.compute_hash()
    head.seq, head.hash = record.seq, record.hash
    session.add(record)
    session.add(head)
    return record


def exists(session: Session, idempotency_key: str) -> bool:
    return (
        session.exec(
            select(AuditRecord.seq).where(AuditRecord.idempotency_key == idempotency_key)
        ).first()
        is not None
    )


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def checkpoint(session: Session, signer: AuditSigner) -> AuditCheckpoint | None:
    """Sign the chain's current tip, unless it is signed already; the caller commits."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0 or session.get(AuditCheckpoint, head.seq) is not None:
        return None
    point = AuditCheckpoint(
        seq=head.seq,
        hash=head.hash,
        signed_at=datetime.now(UTC),
        public_key=signer.public_key,
        signature=signer.sign(head.seq, head.hash),
    )
    session.add(point)
    return point


def verify(
    records: Iterable[AuditRecord],
    head: AuditHead | None,
    checkpoints: Iterable[AuditCheckpoint] = (),
    trusted_keys: set[str] | None = None,
) -> VerifyResult:
    """Walk the chain in sequence order: any edit, deletion, insertion or reordering breaks
    it; a chain rewritten with fresh hashes breaks at the next signed checkpoint."""
    points = {c.seq: c for c in checkpoints}
    for signed in points.values():
        if trusted_keys is not None and signed.public_key not in trusted_keys:
            return VerifyResult(False, 0, signed.seq, "checkpoint signed by an unknown key")
        if not signature_valid(signed.public_key, signed.seq, signed.hash, signed.signature):
            return VerifyResult(False, 0, signed.seq, "checkpoint signature is not valid")
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for record in records:
        if record.seq != expected_seq:
            return VerifyResult(False, checked, record.seq, f"expected seq {expected_seq}")
        if record.prev_hash != prev_hash:
            return VerifyResult(False, checked, record.seq, "prev_hash does not match")
        if record.compute_hash() != record.hash:
            return VerifyResult(False, checked, record.seq, "content does not match its hash")
        point = points.get(record.seq)
        if point is not None and point.hash != record.hash:
            return VerifyResult(
                False, checked, record.seq, "chain does not match its signed checkpoint"
            )
        prev_hash, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return VerifyResult(False, checked, checked + 1, "records after the last one are missing")
    beyond = [seq for seq in points if seq > checked]
    if beyond:
        return VerifyResult(False, checked, checked + 1, "records before a checkpoint are missing")
    return VerifyResult(True, checked)


def records_in_order(
    session: Session, batch: int = 5000, up_to: int | None = None
) -> Iterator[AuditRecord]:
    last = 0
    while True:
        query = select(AuditRecord).where(AuditRecord.seq > last)
        if up_to is not None:
            query = query.where(AuditRecord.seq <= up_to)
        rows = session.exec(query.order_by(col(AuditRecord.seq)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def checkpoints_of(session: Session) -> list[AuditCheckpoint]:
    return list(session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq))).all())


def verify_session(session: Session, trusted_keys: set[str] | None = None) -> VerifyResult:
    """Writers may append while the chain is read, each statement seeing what is committed by
    then: the chain is checked up to the head as first read; a record past the head as read
    afterwards is one no append accounted for."""
    head = session.get(AuditHead, 1, populate_existing=True)
    up_to = head.seq if head is not None else None
    records = records_in_order(session, up_to=up_to)
    result = verify(records, head, checkpoints_of(session), trusted_keys)
    if not result.ok or head is None:
        return result
    last = session.exec(select(func.max(AuditRecord.seq))).one() or 0
    later = session.get(AuditHead, 1, populate_existing=True)
    if later is None or last > later.seq:
        return VerifyResult(
            False, result.checked, later.seq + 1 if later else 1, "a record beyond the head"
        )
    return result
