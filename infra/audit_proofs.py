"""Inclusion and consistency proofs of the audit log, as the API and the CLI give them, and
their checks: a proof is worth something only against a tree head signed by a pinned key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from infra import audit_tree, merkle
from infra.db import make_engine, session_factory
from infra.settings import Settings
from infra.signing import bytes_signed, tree_head_message
from models.audit import AuditCheckpoint, ConsistencyProof, InclusionProof, SignedTreeHead

T = TypeVar("T")


class ProofError(Exception):
    """`status`, `code` and a Chinese `message` for clients; `detail` in English for logs."""

    def __init__(self, status: int, code: str, message: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def _head(session: Session, tree_size: int | None) -> AuditCheckpoint:
    head = (
        audit_tree.latest_head(session)
        if tree_size is None
        else session.get(AuditCheckpoint, tree_size)
    )
    if head is None or head.root_hash is None:
        raise ProofError(
            404,
            "tree_head_not_found",
            "没有该规模的已签名树头。" if tree_size else "尚无已签名的树头，请稍后再试。",
            f"no signed tree head of {tree_size}" if tree_size else "no signed tree head yet",
        )
    return head


def inclusion(session: Session, seq: int, tree_size: int | None = None) -> InclusionProof:
    head = _head(session, tree_size)
    if seq > head.seq:
        raise ProofError(
            409,
            "not_yet_signed",
            f"第 {seq} 条记录尚未纳入已签名的树头（当前 {head.seq} 条），请稍后再试。",
            f"record {seq} is not in the signed tree of {head.seq} yet",
        )
    try:
        return audit_tree.inclusion(session, seq, head)
    except LookupError as exc:
        raise ProofError(404, "audit_record_not_found", "未找到该审计记录。", str(exc)) from exc


def consistency(session: Session, first: int, second: int) -> ConsistencyProof:
    if not 1 <= first <= second:
        raise ProofError(
            422,
            "invalid_tree_sizes",
            "树的规模须满足 1 ≤ first ≤ second。",
            f"no consistency proof from {first} to {second}",
        )
    try:
        return audit_tree.consistency(session, first, second)
    except LookupError as exc:
        raise ProofError(
            404, "tree_head_not_found", "该规模的树尚未签名，请稍后再试。", str(exc)
        ) from exc


def run(settings: Settings, work: Callable[[Session], T]) -> T:
    engine = make_engine(settings.resolved_database_url, writer=False)
    try:
        with session_factory(engine)() as session:
            return work(session)
    finally:
        engine.dispose()


def head_problem(head: SignedTreeHead, trusted: set[str]) -> str | None:
    if head.public_key not in trusted:
        return f"the tree head of {head.tree_size} is signed by a key that is not pinned"
    data = tree_head_message(head.tree_size, head.root_hash, head.chain_hash, head.timestamp)
    if not bytes_signed(head.public_key, data, head.signature):
        return f"the tree head of {head.tree_size} has an invalid signature"
    return None


def check_inclusion(proof: InclusionProof, trusted: set[str]) -> str | None:
    """None when the record's hash is in the signed tree; else what is wrong."""
    problem = head_problem(proof.tree_head, trusted)
    if problem:
        return problem
    leaf = merkle.leaf_hash(bytes.fromhex(proof.record_hash))
    path = [bytes.fromhex(p) for p in proof.audit_path]
    root = bytes.fromhex(proof.tree_head.root_hash)
    if not merkle.verify_inclusion(proof.seq - 1, proof.tree_head.tree_size, leaf, path, root):
        return "the audit path does not lead to the signed root"
    return None


def check_consistency(proof: ConsistencyProof, trusted: set[str]) -> str | None:
    """None when the first tree is a prefix of the second (and any signed head given
    matches its root); else what is wrong."""
    sides = ((proof.first_head, proof.first_root), (proof.second_head, proof.second_root))
    for head, root in sides:
        if head is not None:
            problem = head_problem(head, trusted)
            if problem:
                return problem
            if head.root_hash != root:
                return f"the root given for {head.tree_size} is not the signed one"
    nodes = [bytes.fromhex(p) for p in proof.proof]
    first, second = bytes.fromhex(proof.first_root), bytes.fromhex(proof.second_root)
    if not merkle.verify_consistency(proof.first, proof.second, first, second, nodes):
        return "the proof does not join the two roots"
    return None
