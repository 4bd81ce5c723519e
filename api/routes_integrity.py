"""Integrity files (诚信档案) of institutions, and the audit queries (by filter, by person).
The audit log's proofs are in `routes_audit`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from api.access import check_integrity_reader, full_integrity
from api.deps import HasherDep, SessionDep
from api.errors import ApiError
from api.identity import ActorDep, require
from infra import audit_queries, integrity
from infra.identity import IdentityNumberError
from models.actors import Actor, Role
from models.audit import AuditPage, AuditQuery
from models.bounds import Line
from models.integrity import IntegrityRecordPublic

router = APIRouter(prefix="/api/v1", tags=["enforcement"])
AuditorDep = Annotated[Actor, require(Role.AUDITOR, Role.ADMIN, Role.LEADING_OFFICE)]


@router.get("/audit", response_model=AuditPage, summary="审计记录查询")
def audit_query(
    session: SessionDep,
    _: AuditorDep,
    q: Annotated[AuditQuery, Query()],
) -> AuditPage:
    """Paginated by sequence: pass `next_after_seq` back as `after_seq`."""
    return audit_queries.query(session, q)


class PersonAuditQuery(BaseModel):
    """The person by identity number, in the body so it never appears in a URL or a log."""

    model_config = ConfigDict(extra="forbid")

    id_number: Line = Field(min_length=18, max_length=64, description="any spelling; canonicalised")
    after_seq: int = Field(default=0, ge=0, le=2**31 - 1)
    limit: int = Field(default=100, ge=1, le=1000)


@router.post("/audit/by-person", response_model=AuditPage, summary="按人员查询审计记录")
def audit_by_person(
    body: PersonAuditQuery, session: SessionDep, _: AuditorDep, hasher: HasherDep
) -> AuditPage:
    """Every record concerning one person (staff checks, hiring, bans), found by the keyed
    hash of their identity number (in its canonical form, as every number is hashed)."""
    try:
        person_hash = hasher.hash(body.id_number)
    except IdentityNumberError as exc:
        raise ApiError(422, "invalid_id_number", str(exc)) from exc
    return audit_queries.query(
        session,
        AuditQuery(
            person_hash=person_hash,
            after_seq=body.after_seq,
            limit=body.limit,
        ),
    )


@router.get("/institutions/{institution_id}/integrity", response_model=list[IntegrityRecordPublic])
def institution_integrity(
    institution_id: str,
    session: SessionDep,
    actor: ActorDep,
    format: Literal["json", "csv", "jsonl"] = "json",
) -> object:
    """The integrity file (诚信档案) of a registered institution, oldest first."""
    return integrity_file(f"id:{institution_id}", session=session, actor=actor, format=format)


@router.get("/integrity", response_model=list[IntegrityRecordPublic])
def integrity_file(
    key: str,
    session: SessionDep,
    actor: ActorDep,
    format: Literal["json", "csv", "jsonl"] = "json",
) -> object:
    """By institution key: `id:<registry id>`, or `name:<town>:<name>` for one not registered.
    Health, the leading office, auditors and administrators read the whole file; everyone
    else its public credit information (decisions and credit-platform entries, naming no
    person and quoting no findings); a town only its own institutions' files."""
    check_integrity_reader(session, actor, key)
    records = [IntegrityRecordPublic.model_validate(r) for r in integrity.file_of(session, key)]
    if not full_integrity(actor):
        records = integrity.public_view(records)
    if format == "jsonl":
        return PlainTextResponse(
            "".join(r.model_dump_json() + "\n" for r in records), media_type="application/jsonl"
        )
    if format == "csv":
        return PlainTextResponse(integrity.to_csv(records), media_type="text/csv; charset=utf-8")
    return records
