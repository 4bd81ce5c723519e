"""Temporal's remote codec server protocol: payloads decrypted (and encrypted) for an admin.

`POST /codec/decode` and `POST /codec/encode` take and give `{"payloads": [{"metadata": {...},
"data": "..."}]}` (the protobuf JSON of `temporal.api.common.v1.Payloads`), as the Temporal UI
(`--ui-codec-endpoint`) and CLI (`--codec-endpoint`, `--codec-auth`) send it. Only an admin's
bearer token opens them; browsers may call them from the Temporal UI's origin (CORS, these
paths only).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.errors import ApiError
from api.identity import require
from infra.codec import CodecError, EncryptionCodec
from infra.settings import Settings
from models.actors import Actor, Role

router = APIRouter(prefix="/codec", tags=["codec"])
PREFIX = "/codec/"
AdminDep = Annotated[Actor, require(Role.ADMIN)]


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            400, "invalid_payloads", "请求内容应为 Temporal 的 Payloads JSON。", str(exc)[:200]
        ) from exc


def _answer(payloads: list[Any]) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))


@router.post("/decode", summary="为 Temporal 界面解密载荷（仅管理员）")
async def decode(request: Request, actor: AdminDep) -> JSONResponse:
    codec: EncryptionCodec = request.app.state.codec
    payloads = await _payloads(request)
    try:
        return _answer(await codec.decode(payloads.payloads))
    except CodecError as exc:
        raise ApiError(422, "undecodable_payload", "载荷无法解密（密钥不符或已被改动）。") from exc


@router.post("/encode", summary="为 Temporal 界面加密载荷（仅管理员）")
async def encode(request: Request, actor: AdminDep) -> JSONResponse:
    codec: EncryptionCodec = request.app.state.codec
    payloads = await _payloads(request)
    return _answer(await codec.encode(payloads.payloads))


def cors_origins(settings: Settings) -> list[str]:
    if settings.codec_cors_origins:
        return settings.codec_cors_origins
    host, port = settings.temporal_host_port
    ui = settings.temporal_ui_port or port + 1000
    return [f"http://{host}:{ui}", f"http://localhost:{ui}"]


class CodecCors:
    """CORS for the codec paths alone: the rest of the API stays same-origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "x-namespace"],
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
