"""The audit trail's Merkle log in the database: the leaves are the records' chain hashes in
sequence order (so every record written before the log began keeps its hash), and every
perfect subtree is stored once complete, at each checkpoint. A proof then reads about
2 log2(n) rows: measured at 1,000,000 records in bench/audit_proofs.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import and_, insert, or_
from sqlmodel import Session, col, func, select

from infra import merkle
from models.audit import (
    AuditCheckpoint,
    AuditRecord,
    AuditTreeNode,
    ConsistencyProof,
    InclusionProof,
)

T = TypeVar("T")


class TreeError(Exception):
    """The records do not extend the stored tree: the trail was altered."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"record {seq}: {problem}")
        self.seq, self.problem = seq, problem


def size(session: Session) -> int:
    last = session.exec(
        select(func.max(AuditTreeNode.position)).where(AuditTreeNode.level == 0)
    ).one()
    return 0 if last is None else last + 1


def lookup(session: Session) -> merkle.NodeLookup:
    def node(level: int, position: int) -> bytes:
        row = session.get(AuditTreeNode, (level, position))
        if row is None:
            raise LookupError(f"no stored subtree at level {level}, position {position}")
        return bytes.fromhex(row.hash)

    return node


def prefetched(session: Session, compute: Callable[[merkle.NodeLookup], T]) -> T:
    """Run a proof's computation twice: once to learn which subtrees it reads (its shape
    depends only on the sizes), then on those rows fetched in one query instead of one
    round trip each."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, position: int) -> bytes:
        wanted.add((level, position))
        return bytes(32)

    compute(record)
    by_level: dict[int, list[int]] = {}
    for level, position in wanted:
        by_level.setdefault(level, []).append(position)
    clauses = [
        and_(col(AuditTreeNode.level) == lv, col(AuditTreeNode.position).in_(ps))
        for lv, ps in by_level.items()
    ]
    rows = session.exec(select(AuditTreeNode).where(or_(*clauses))).all() if clauses else []
    found = {(r.level, r.position): bytes.fromhex(r.hash) for r in rows}

    def node(level: int, position: int) -> bytes:
        if (level, position) not in found:
            raise LookupError(f"no stored subtree at level {level}, position {position}")
        return found[level, position]

    return compute(node)


def frontier(session: Session, tree_size: int) -> merkle.Frontier:
    node = lookup(session)
    return merkle.Frontier(
        tree_size, {lv: node(lv, pos) for lv, pos in merkle.Frontier.levels(tree_size)}
    )


def extend(session: Session, up_to: int, batch: int = 5000) -> merkle.Frontier:
    """Add the records after the stored tree up to `up_to`, checking that each one chains to
    the one before and matches its hash; the caller commits."""
    start = size(session)
    tree = frontier(session, start)
    last_hash: str | None = None
    if start:
        record = session.get(AuditRecord, start)
        leaf = lookup(session)(0, start - 1)
        if record is None or merkle.leaf_hash(bytes.fromhex(record.hash)) != leaf:
            raise TreeError(start, "record no longer matches the stored tree")
        last_hash = record.hash
    expected, nodes = start + 1, list[dict[str, object]]()
    while expected <= up_to:
        rows = session.exec(
            select(AuditRecord)
            .where(AuditRecord.seq >= expected, AuditRecord.seq <= up_to)
            .order_by(col(AuditRecord.seq))
            .limit(batch)
        ).all()
        if not rows:
            raise TreeError(expected, "missing")
        for record in rows:
            if record.seq != expected:
                raise TreeError(expected, "missing")
            if last_hash is not None and record.prev_hash != last_hash:
                raise TreeError(record.seq, "prev_hash does not match")
            if record.compute_hash() != record.hash:
                raise TreeError(record.seq, "content does not match its hash")
            leaf = merkle.leaf_hash(bytes.fromhex(record.hash))
            made = tree.append(leaf)
            nodes += [{"level": lv, "position": pos, "hash": h.hex()} for lv, pos, h in made]
            last_hash, expected = record.hash, expected + 1
        # One multi-row insert a batch: about two rows a record (a million-record tree is
        # 2 million rows), far too many for the ORM's unit of work.
        session.execute(insert(AuditTreeNode), nodes)
        nodes = []
        for record in rows:  # a million records need not stay in the session
            session.expunge(record)
    return tree


def latest_head(session: Session) -> AuditCheckpoint | None:
    return session.exec(
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.root_hash).is_not(None))
        .order_by(col(AuditCheckpoint.seq).desc())
        .limit(1)
    ).first()


def inclusion(session: Session, seq: int, head: AuditCheckpoint) -> InclusionProof:
    record = session.get(AuditRecord, seq)
    tree_head = head.tree_head()
    if record is None or tree_head is None or not 1 <= seq <= head.seq:
        raise LookupError(f"record {seq} is not in the signed tree of {head.seq}")
    path = prefetched(session, lambda node: merkle.inclusion_proof(node, seq - 1, head.seq))
    return InclusionProof(
        seq=seq,
        leaf_index=seq - 1,
        record_hash=record.hash,
        leaf_hash=merkle.leaf_hash(bytes.fromhex(record.hash)).hex(),
        audit_path=[p.hex() for p in path],
        tree_head=tree_head,
    )


def consistency(session: Session, first: int, second: int) -> ConsistencyProof:
    stored = size(session)
    if not 1 <= first <= second <= stored:
        raise LookupError(f"sizes must satisfy 1 <= first <= second <= {stored}")
    roots, proof = prefetched(
        session,
        lambda node: (
            (merkle.root(node, first), merkle.root(node, second)),
            merkle.consistency_proof(node, first, second),
        ),
    )
    heads = {
        c.seq: c.tree_head()
        for c in session.exec(
            select(AuditCheckpoint).where(col(AuditCheckpoint.seq).in_([first, second]))
        ).all()
    }
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=roots[0].hex(),
        second_root=roots[1].hex(),
        proof=[p.hex() for p in proof],
        first_head=heads.get(first),
        second_head=heads.get(second),
    )
