"""Appending to the hash-chained audit trail, and checking it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from infra import audit_tree, merkle
from infra.signing import AuditSigner, bytes_signed, signature_valid, tree_head_message
from models.actors import Actor
from models.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditRecord,
    SignedTreeHead,
)
from models.timeutil import as_utc


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


def viewed(
    session: Session,
    actor: Actor,
    action: str,
    reason: str,
    *,
    case_id: str | None = None,
    institution: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """A person's view of protected data over HTTP (a contact, the ban list, a caller's
    history), in the caller's transaction."""
    return append(
        session,
        AuditEntry(
            actor=actor.label,
            actor_role=actor.role,
            actor_unit=actor.unit,
            action=action,
            channel="http",
            case_id=case_id,
            institution=institution,
            occurred_at=datetime.now(UTC),
            reason=reason,
            details=details or {},
        ),
    )


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


NO_PINNED_KEY = "no pinned public key: nothing can be called intact without one"


def _millis(moment: datetime) -> datetime:
    moment = as_utc(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def checkpoint(
    session: Session, signer: AuditSigner, witnessed_size: int = 0
) -> AuditCheckpoint | None:
    """Extend the Merkle log to the chain's tip and sign its tree head, unless signed
    already; the caller commits. A head behind what was already stored or witnessed is
    never signed: that is a truncated trail, not a new tip.

    The head row is locked as appends lock it: two Temporal workers running the round at the
    same moment (the cluster leg runs two) both extended the tree, and the second failed on
    a unique violation of `audit_tree_nodes`; now the second waits and finds it signed."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None or head.seq == 0:
        return None
    point = session.get(AuditCheckpoint, head.seq)
    if point is not None and point.root_hash is not None:
        return None
    behind = max(witnessed_size, audit_tree.size(session))
    if head.seq < behind:
        raise audit_tree.TreeError(head.seq + 1, f"the head is behind the signed tree of {behind}")
    tree = audit_tree.extend(session, head.seq)
    last = session.get(AuditRecord, head.seq)
    if last is None or last.hash != head.hash:
        raise audit_tree.TreeError(head.seq, "the head does not match the record")
    now, root = _millis(datetime.now(UTC)), tree.root().hex()
    point = point or AuditCheckpoint(
        seq=head.seq, hash=head.hash, signed_at=now, public_key="", signature=""
    )
    point.signed_at, point.public_key, point.key_id = now, signer.public_key, signer.key_id
    point.root_hash = root
    point.signature = signer.sign_bytes(tree_head_message(head.seq, root, head.hash, now))
    session.add(point)
    return point


def _signature_problem(point: AuditCheckpoint, trusted_keys: set[str]) -> str | None:
    if point.public_key not in trusted_keys:
        return "checkpoint signed by an unknown key"
    if point.root_hash is None:
        valid = signature_valid(point.public_key, point.seq, point.hash, point.signature)
    else:
        data = tree_head_message(point.seq, point.root_hash, point.hash, point.signed_at)
        valid = bytes_signed(point.public_key, data, point.signature)
    return None if valid else "checkpoint signature is not valid"


def _witnessed(
    witnessed: Iterable[SignedTreeHead], trusted_keys: set[str]
) -> tuple[dict[int, SignedTreeHead], VerifyResult | None]:
    heads: dict[int, SignedTreeHead] = {}
    for w in witnessed:
        data = tree_head_message(w.tree_size, w.root_hash, w.chain_hash, w.timestamp)
        if w.public_key not in trusted_keys:
            problem = f"the witnessed tree head of {w.tree_size} is signed by an unknown key"
            return heads, VerifyResult(False, 0, w.tree_size, problem)
        if not bytes_signed(w.public_key, data, w.signature):
            problem = f"the witnessed tree head of {w.tree_size} has an invalid signature"
            return heads, VerifyResult(False, 0, w.tree_size, problem)
        seen = heads.get(w.tree_size)
        if seen is not None and (seen.root_hash, seen.chain_hash) != (w.root_hash, w.chain_hash):
            problem = f"two different signed tree heads of {w.tree_size}: the log forked"
            return heads, VerifyResult(False, 0, w.tree_size, problem)
        heads[w.tree_size] = w
    return heads, None


def verify(
    records: Iterable[AuditRecord],
    head: AuditHead | None,
    checkpoints: Iterable[AuditCheckpoint] = (),
    trusted_keys: set[str] | None = None,
    witnessed: Iterable[SignedTreeHead] = (),
) -> VerifyResult:
    """Walk the chain in sequence order: any edit, deletion, insertion or reordering breaks
    it; a chain rewritten with fresh hashes breaks at the next signed checkpoint; one cut
    short, emptied or rewritten after its last checkpoint breaks against the tree heads
    witnessed outside the database. Only pinned keys are trusted, and without one nothing
    is intact."""
    if not trusted_keys:
        return VerifyResult(False, 0, None, NO_PINNED_KEY)
    points = {c.seq: c for c in checkpoints}
    for signed in points.values():
        problem = _signature_problem(signed, trusted_keys)
        if problem:
            return VerifyResult(False, 0, signed.seq, problem)
    heads, refused = _witnessed(witnessed, trusted_keys)
    if refused:
        return refused
    tree = merkle.Frontier()
    prev_hash, expected_seq, checked, matched = GENESIS_HASH, 1, 0, 0
    for record in records:
        if record.seq != expected_seq:
            return VerifyResult(False, checked, record.seq, f"expected seq {expected_seq}")
        if record.prev_hash != prev_hash:
            return VerifyResult(False, checked, record.seq, "prev_hash does not match")
        if record.compute_hash() != record.hash:
            return VerifyResult(False, checked, record.seq, "content does not match its hash")
        tree.append(merkle.leaf_hash(bytes.fromhex(record.hash)))
        point = points.get(record.seq)
        if point is not None and (
            point.hash != record.hash
            or (point.root_hash is not None and point.root_hash != tree.root().hex())
        ):
            return VerifyResult(
                False, checked, record.seq, "chain does not match its signed checkpoint"
            )
        w = heads.get(record.seq)
        if w is not None:
            if (w.chain_hash, w.root_hash) != (record.hash, tree.root().hex()):
                problem = (
                    f"records {matched + 1}..{record.seq} differ from the witnessed tree head "
                    f"of {record.seq}"
                )
                return VerifyResult(False, checked, matched + 1, problem)
            matched = record.seq
        prev_hash, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
    witnessed_size = max(heads, default=0)
    if witnessed_size > checked:
        problem = (
            f"records {checked + 1}..{witnessed_size} are missing: the witnessed tree head "
            f"has {witnessed_size}"
        )
        return VerifyResult(False, checked, checked + 1, problem)
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


def verify_session(
    session: Session,
    trusted_keys: set[str] | None = None,
    witnessed: Iterable[SignedTreeHead] = (),
) -> VerifyResult:
    """Writers may append while the chain is read, each statement seeing what is committed by
    then: the chain is checked up to the head as first read; a record past the head as read
    afterwards is one no append accounted for."""
    head = session.get(AuditHead, 1, populate_existing=True)
    up_to = head.seq if head is not None else None
    records = records_in_order(session, up_to=up_to)
    result = verify(records, head, checkpoints_of(session), trusted_keys, witnessed)
    if not result.ok or head is None:
        return result
    last = session.exec(select(func.max(AuditRecord.seq))).one() or 0
    later = session.get(AuditHead, 1, populate_existing=True)
    if later is None or last > later.seq:
        return VerifyResult(
            False, result.checked, later.seq + 1 if later else 1, "a record beyond the head"
        )
    return result
