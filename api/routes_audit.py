"""The audit log's proofs (RFC 9162): a record's inclusion in a signed tree head, and the
consistency of two tree sizes. The same readers as the audit queries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import SessionDep
from api.errors import ApiError
from api.identity import require
from infra import audit_proofs
from models.actors import Actor, Role
from models.audit import ConsistencyProof, InclusionProof

router = APIRouter(prefix="/api/v1", tags=["audit"])
AuditReaderDep = Annotated[Actor, require(Role.AUDITOR, Role.ADMIN, Role.LEADING_OFFICE)]
Size = Annotated[int, Query(ge=1, le=2**31 - 1)]  # seq is a 32-bit integer


@router.get("/audit/consistency", response_model=ConsistencyProof, summary="审计日志一致性证明")
def audit_consistency(
    session: SessionDep, _: AuditReaderDep, first: Size, second: Size
) -> ConsistencyProof:
    """The tree of the first `first` records is a prefix of the tree of `second`: check it
    with the two signed tree heads' roots (RFC 9162 2.1.4.2)."""
    try:
        return audit_proofs.consistency(session, first, second)
    except audit_proofs.ProofError as exc:
        details = {"first": first, "second": second}
        raise ApiError(exc.status, exc.code, exc.message, details) from None


@router.get("/audit/{seq}/proof", response_model=InclusionProof, summary="审计记录包含证明")
def audit_inclusion(
    session: SessionDep,
    _: AuditReaderDep,
    seq: Annotated[int, Path(ge=1, le=2**31 - 1)],
    tree_size: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> InclusionProof:
    """Record `seq` is leaf `seq - 1` of the signed tree head (the latest, or `tree_size`):
    check the audit path against its root (RFC 9162 2.1.3.2) and its signature against the
    pinned key."""
    try:
        return audit_proofs.inclusion(session, seq, tree_size)
    except audit_proofs.ProofError as exc:
        details = {"seq": seq, "tree_size": tree_size}
        raise ApiError(exc.status, exc.code, exc.message, details) from None
