"""Every error as `{"error": {"code", "message", "details"}}`; messages in Simplified Chinese."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.intake_keys import first_rejection
from infra.identity import redact
from infra.intake import InvalidEvent
from infra.metrics import DEAD_LETTERED
from models import topics
from models.notifications import DeadLetter, DeadLetterSource

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


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
    channel = letter.source.channel or "http"

    def send() -> None:
        request.app.state.publisher.publish(
            topics.DEAD_LETTER, letter.event_id, letter.model_dump_json().encode()
        )

    try:
        # A client retrying a refused body is dead-lettered once (finding: every retry was
        # another dead letter); the digest of channel and body marks it in the database.
        sent = await run_in_threadpool(
            first_rejection, request.app.state.audit_sessions, channel, body, reason, send
        )
    except KafkaError:
        log.exception("could not dead-letter a rejected %s %s", request.method, request.url.path)
        return
    except SQLAlchemyError:
        log.exception("cannot mark a rejected body; dead-lettering it anyway")
        try:
            await run_in_threadpool(send)
        except KafkaError:
            log.exception("could not dead-letter a rejected %s", request.url.path)
            return
        sent = True
    if sent:
        DEAD_LETTERED.labels(channel).inc()


# What a field is called on the pages; a field not named here is shown by its path.
FIELD_NAMES = {
    "description": "问题描述",
    "occurred_at": "发生时间",
    "event_id": "事件编号",
    "town": "所属镇（街道）",
    "institution_name": "机构名称",
    "institution_id": "机构编号",
    "text": "备注内容",
    "note": "备注",
    "reason": "理由",
    "findings": "调查结果",
    "comment": "回访意见",
    "legal_basis": "法律依据",
    "name": "姓名",
    "phone": "联系电话",
    "email": "电子邮箱",
    "complainant": "来电人信息",
    "category": "问题类别",
    "channel": "来源渠道",
    "anonymous": "是否匿名",
    "confidential": "是否保密",
    "urgent": "是否紧急",
    "id_number": "身份证号码",
    "persons": "当事人",
    "outcome": "核查结论",
    "password": "密码",
    "key": "机构标识",
    "unit": "单位",
    "to_unit": "改派单位",
    "satisfied": "是否满意",
    "resolved": "问题是否解决",
    "approve": "是否同意",
    "start": "起始日期",
    "end": "截止日期",
    "since": "起始时间",
    "until": "截止时间",
}
PROBLEMS = {
    "control_character": "含有不允许的控制字符（如 NUL 空字符）",
    "format_character": "含有不可见的格式字符（如零宽空格、文字方向控制符），请删除后重新输入",
    "phone_number": "格式不正确（只能包含数字、空格、“+”和“-”，至少3位数字）",
    "string_pattern_mismatch": "格式不正确",
    "bool_type": "应为“是”或“否”（JSON 的 true 或 false）",
    "bool_parsing": "应为“是”或“否”（JSON 的 true 或 false）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "model_type": "应为一组字段（JSON 对象）",
    "model_attributes_type": "应为一组字段（JSON 对象）",
    "list_type": "应为列表",
    "date_out_of_range": "超出允许范围（须带时区，在 2000-01-01 至当前时间后一天之内）",
    "string_too_long": "过长",
    "string_too_short": "过短或为空",
    "missing": "缺少必填项",
    "extra_forbidden": "是不允许的字段",
    "timezone_aware": "须带时区（UTC 偏移）",
    "datetime_from_date_parsing": "不是有效的日期时间",
    "datetime_parsing": "不是有效的日期时间",
    "date_from_datetime_parsing": "不是有效的日期",
    "date_parsing": "不是有效的日期",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "json_invalid": "不是有效的 JSON",
    "string_type": "应为文本",
    "unknown_code": "不是已知的代码",
    "duplicate_key": "在请求中出现了不止一次（同一字段只能填写一次）",
}

QUERY_DATE_PROBLEM = "超出允许范围（须在 2000-01-01 至 2100-01-01 之间）"


def field_label(field: str) -> str:
    parts = [p for p in field.split(".") if p not in ("body", "query", "path")]
    path = ".".join(parts) or "请求内容"
    name = FIELD_NAMES.get(parts[-1]) if parts else None
    return f"{name}（{path}）" if name else path


def _problem(d: dict[str, Any]) -> str:
    if d.get("type") == "json_invalid":
        # Its location is the character offset where parsing stopped, not a field.
        parts = str(d.get("field", "")).split(".")
        at = f"（第 {parts[-1]} 个字符处）" if parts[-1].isdigit() else ""
        return f"请求内容不是有效的 JSON{at}"
    return field_label(str(d.get("field", ""))) + (
        QUERY_DATE_PROBLEM
        if d.get("type") == "date_out_of_range" and str(d.get("field")).startswith("query.")
        else PROBLEMS.get(str(d.get("type")), "不符合要求")
    )


def _own_message(d: dict[str, Any]) -> str | None:
    """A model's own validator speaks Chinese already ("Value error, 请选择…"): shown as is."""
    if d.get("type") != "value_error":
        return None
    text = str(d.get("problem", "")).removeprefix("Value error, ")
    return text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else None


def chinese(details: list[dict[str, Any]]) -> str:
    """One sentence naming each field at fault (the first three) and what is wrong with it."""
    parts = [_own_message(d) or _problem(d) for d in details[:3]]
    more = f"等 {len(details)} 处" if len(details) > 3 else ""
    return "；".join(parts) + more


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(InvalidEvent)
    async def _invalid_event(request: Request, exc: InvalidEvent) -> JSONResponse:
        await dead_letter(request, exc.reason)
        return JSONResponse(
            error_body(
                "invalid_event",
                f"提交的内容不符合要求：{chinese(exc.details)}。请检查后重新提交。"
                if exc.details
                else "提交的内容不符合要求，请检查后重新提交。",
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
            error_body(
                "invalid_request",
                f"请求内容有误：{chinese(details)}。请按提示修改后重新提交。",
                details,
            ),
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
