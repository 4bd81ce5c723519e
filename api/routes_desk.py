"""What the hotline operator looks at while on the call: the knowledge base (知识库), the
caller's earlier calls (matched by a keyed hash of the phone number, never the number), and
the institution's open cases."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import AuditSessionDep, HasherDep, SessionDep
from api.errors import ApiError
from api.identity import ActorDep
from infra import audit, knowledge
from infra.duplicates import JOINABLE
from infra.identity import IdentityHasher
from models.actors import Actor, Role
from models.cases import Case, CaseStatus, ComplainantContact
from models.knowledge import KnowledgeHit

router = APIRouter(prefix="/api/v1", tags=["hotline desk"])
DESK = (Role.OPERATOR, Role.ADMIN)
OPEN_STATUSES = (*JOINABLE, CaseStatus.RESOLVED)


def phone_hash(hasher: IdentityHasher, phone: str) -> str:
    """The caller history's key: digits only, so "0855-123 4567" and "08551234567" match."""
    # NFKC first: full-width digits typed at the desk match the ASCII ones.
    normal = unicodedata.normalize("NFKC", phone)
    digits = "".join(c for c in normal if c.isascii() and c.isdigit())
    return hasher.keyed(f"phone:{digits}")


@router.get("/knowledge", response_model=list[KnowledgeHit], summary="知识库检索")
def search_knowledge(
    _: ActorDep,
    q: str = Query(min_length=1, max_length=100, description="关键词、中文或拼音（全拼或首字母）"),
    limit: int = Query(default=10, ge=1, le=50),
) -> list[KnowledgeHit]:
    return knowledge.search(q, limit)


class CaseBrief(BaseModel):
    id: str
    status: CaseStatus
    category: str
    town: str
    institution_name: str | None
    received_at: datetime
    handler: str | None
    resolve_by: datetime | None


class CallerHistory(BaseModel):
    calls: int = Field(description="earlier calls from this number with a contact on record")
    repeat_caller: bool
    hint: str
    cases: list[CaseBrief]


def _brief(c: Case) -> CaseBrief:
    return CaseBrief(**c.model_dump(include=set(CaseBrief.model_fields)))


def _desk_only(actor: Actor) -> None:
    if actor.role not in DESK:
        raise ApiError(403, "forbidden", "来电历史仅供12345热线话务员查看。")


@router.get("/callers/history", response_model=CallerHistory, summary="来电历史")
def caller_history(
    session: SessionDep,
    audit_session: AuditSessionDep,
    hasher: HasherDep,
    actor: ActorDep,
    phone: str = Query(min_length=3, max_length=32, pattern=r"^[0-9+\- ]{3,32}$"),
) -> CallerHistory:
    """Operators only; every look-up is an audit record (`caller.history-viewed`, the hash
    only). Anonymous calls leave no contact and so no history."""
    _desk_only(actor)
    key = phone_hash(hasher, phone)
    rows = session.exec(
        select(Case)
        .join(ComplainantContact, col(ComplainantContact.case_id) == col(Case.id))
        .where(ComplainantContact.phone_hash == key)
        .order_by(col(Case.received_at).desc())
        .limit(50)
    ).all()
    audit.viewed(
        audit_session,
        actor,
        "caller.history-viewed",
        "受理来电时查看来电历史",
        details={"phone_hash": key, "found": len(rows)},
    )
    audit_session.commit()
    open_cases = [c for c in rows if c.status in OPEN_STATUSES]
    if not rows:
        hint = "首次来电。"
    else:
        hint = f"重复来电：该号码此前来电 {len(rows)} 次，其中 {len(open_cases)} 件尚在办理。"
    return CallerHistory(
        calls=len(rows), repeat_caller=bool(rows), hint=hint, cases=[_brief(c) for c in rows]
    )


@router.get(
    "/institutions/{institution_id}/open-cases",
    response_model=list[CaseBrief],
    summary="同一机构在办案件",
)
def institution_open_cases(
    institution_id: str, session: SessionDep, actor: ActorDep
) -> list[CaseBrief]:
    """Before submitting: the same institution's cases still being handled (a new report of
    the same concern joins a dispatched or accepted one)."""
    if actor.role not in (*DESK, Role.LEADING_OFFICE, Role.AUDITOR):
        raise ApiError(403, "forbidden", "仅供热线话务员和领导小组办公室查看。")
    rows = session.exec(
        select(Case)
        .where(Case.institution_id == institution_id)
        .where(col(Case.status).in_(OPEN_STATUSES))
        .order_by(col(Case.received_at).desc())
        .limit(100)
    ).all()
    return [_brief(c) for c in rows]
