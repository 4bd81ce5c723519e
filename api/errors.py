"""Every error as `{"error": {"code", "message", "details"}}`; messages in Simplified Chinese."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.identity import redact
from infra.intake import InvalidEvent
from infra.metrics import DEAD_LETTERED
from models import topics
from models.notifications import DeadLetter, DeadLetterSource

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


async def dead_letter(request: Request, reason: str) -> None:
    """A rejected submission goes to the dead-letter topic too, so nothing sent is lost."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    # Identity numbers (staff checks, abuse results) are masked here too: a rejected body must
    # not carry one in clear text onto the topic.
    # The caller's contact of a rejected complaint is sealed, as on `tuoyu.complaints`.
    body = request.app.state.vault.redact_contact(redact(await request.body()))
    letter = DeadLetter.of(
        body, reason, DeadLetterSource(channel=f"http {request.method} {request.url.path}")
    )
    DEAD_LETTERED.labels(letter.source.channel or "http").inc()
    try:
        await run_in_threadpool(
            request.app.state.publisher.publish,
            topics.DEAD_LETTER,
            letter.event_id,
            letter.model_dump_json().encode(),
        )
    except KafkaError:
        log.exception("could not dead-letter a rejected %s %s", request.method, request.url.path)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(InvalidEvent)
    async def _invalid_event(request: Request, exc: InvalidEvent) -> JSONResponse:
        await dead_letter(request, exc.reason)
        return JSONResponse(
            error_body(
                "invalid_event",
                "提交的内容不符合要求，请检查后重新提交。",
                exc.details or exc.reason,
            ),
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "problem": e.get("msg"),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        await dead_letter(request, f"invalid request: {summary}")
        return JSONResponse(
            error_body("invalid_request", "请求内容有误，请按提示修改后重新提交。", details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "请求的资源不存在。", 405: "不支持该请求方法。"}
        return JSONResponse(
            error_body(f"http_{exc.status_code}", messages.get(exc.status_code, str(exc.detail))),
            status_code=exc.status_code,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the client sent (a number out of its range, a NUL
        # character in text): the client's error, not ours.
        await dead_letter(request, f"value refused by the database: {type(exc.orig).__name__}")
        return JSONResponse(
            error_body("invalid_value", "请求中的值超出范围或含有不允许的字符。"),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            error_body("internal_error", "系统内部错误，请稍后重试。"), status_code=500
        )
