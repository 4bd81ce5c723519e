"""What the inbox needs beyond the cases themselves: the unit's part in each case (handler or
only assisting), the deadline that counts now (after a reminder: the final acceptance
deadline the workflow holds), and server-sent events for new urgent cases.

The event stream reads the assignments table every `events_poll_seconds` (2 s by default):
one indexed query per open page, instead of every page reloading its whole list every 15 s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from api.case_actions import query_state
from api.deps import get_temporal
from api.identity import ActorDep
from models.actors import Actor
from models.cases import Case, CaseAssignment, CasePublic, CaseStatus, Priority

router = APIRouter(prefix="/api/v1/events", tags=["cases"])
URGENT = (Priority.CRITICAL, Priority.HIGH)
HEARTBEAT_SECONDS = 15.0


def unit_roles(request: Request, unit: str | None, ids: list[str]) -> dict[str, str]:
    if unit is None or not ids:
        return {}
    with request.app.state.sessions() as session:
        rows = session.exec(
            select(CaseAssignment.case_id, CaseAssignment.role)
            .where(CaseAssignment.unit == unit)
            .where(col(CaseAssignment.case_id).in_(ids))
        ).all()
    return {case_id: role for case_id, role in rows}


async def current_deadlines(request: Request, cases: list[CasePublic]) -> dict[str, datetime]:
    """Dispatched cases past their acceptance deadline were reminded: the workflow's final
    acceptance deadline is the one that counts. Best effort: without Temporal, none."""
    now = datetime.now(UTC)
    late = [
        c
        for c in cases
        if c.status is CaseStatus.DISPATCHED
        and c.accept_by is not None
        and (c.accept_by if c.accept_by.tzinfo else c.accept_by.replace(tzinfo=UTC)) < now
    ][:50]
    if not late:
        return {}
    try:
        client = await get_temporal(request)
        states = await asyncio.gather(*(query_state(client, c.id) for c in late))
    except Exception:
        return {}
    return {
        c.id: s.deadlines.accept_final_by
        for c, s in zip(late, states, strict=True)
        if s is not None and s.reminded and s.deadlines.accept_final_by is not None
    }


def _new_urgent(request: Request, actor: Actor, since: datetime) -> list[dict[str, Any]]:
    with request.app.state.sessions() as session:
        query = (
            select(Case, CaseAssignment.assigned_at)
            .join(CaseAssignment, col(CaseAssignment.case_id) == col(Case.id))
            .where(col(CaseAssignment.assigned_at) > since)
            .where(col(Case.priority).in_(URGENT))
            .where(col(CaseAssignment.role).in_(("handler", "collaborator")))
            .order_by(col(CaseAssignment.assigned_at))
            .limit(50)
        )
        if actor.unit is not None:
            query = query.where(CaseAssignment.unit == actor.unit)
        rows = session.exec(query).all()
    return [
        {
            "id": case.id,
            "category": case.category,
            "priority": case.priority,
            "institution_name": case.institution_name,
            "town": case.town,
            "assigned_at": assigned.isoformat(),
        }
        for case, assigned in rows
    ]


# Not in the OpenAPI document: a stream that never ends is no operation for generated
# clients or fuzzers (documented in the README).
@router.get("/stream", include_in_schema=False)
async def stream(request: Request, actor: ActorDep) -> StreamingResponse:
    """`text/event-stream`: an `urgent-case` event for every critical or high case newly
    assigned to the signed-in user's unit (every unit's for roles without one)."""
    interval = request.app.state.settings.events_poll_seconds

    async def events() -> AsyncIterator[str]:
        since = datetime.now(UTC)
        quiet = 0.0
        yield "retry: 5000\n\n"
        while not await request.is_disconnected():
            found = await run_in_threadpool(_new_urgent, request, actor, since)
            for event in found:
                since = max(since, datetime.fromisoformat(event["assigned_at"]))
                yield f"event: urgent-case\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
            quiet = 0.0 if found else quiet + interval
            if quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(interval)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
