"""The API's Prometheus endpoint and request timing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel import col, func, select

from infra.metrics import HTTP_SECONDS, OVERDUE_CASES
from models.cases import Case, CaseStatus


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_SECONDS.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - began)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        now = datetime.now(UTC)
        with request.app.state.sessions() as session:
            for kind, column, statuses in (
                ("acceptance", Case.accept_by, (CaseStatus.DISPATCHED,)),
                ("resolution", Case.resolve_by, (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)),
            ):
                count = session.exec(
                    select(func.count())
                    .select_from(Case)
                    .where(col(Case.status).in_(statuses))
                    .where(col(column) < now)
                ).one()
                OVERDUE_CASES.labels(kind).set(count)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
