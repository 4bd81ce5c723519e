"""A request body larger than the limit gets 413 before anything reads it whole, whether it
declares its length or streams it in chunks."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

# A multipart form's boundaries and headers around one file.
FORM_OVERHEAD = 64 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, attachment_bytes: int = 0) -> None:
        self.app = app
        self.default_max = max_bytes
        self.attachment_max = max(max_bytes, attachment_bytes + FORM_OVERHEAD)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Attachments (POST /api/v1/cases/{id}/attachments) have their own, larger cap; the
        # route checks the file itself against it.
        limit = self.attachment_max if scope["path"].endswith("/attachments") else self.default_max
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit here, then hand it on.
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body: dict[str, Any] = error_body(
            "body_too_large",
            f"提交内容过大（上限 {limit // 1024} KB），请精简后重新提交。",
            {"max_bytes": limit},
        )
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
