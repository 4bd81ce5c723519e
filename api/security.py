"""Security headers on every response, pages and API alike, and the `WWW-Authenticate`
challenge on every 401 (RFC 6750: `error="invalid_token"` when a token was sent).

The pages load only their own scripts and styles (api/web/static), so `default-src 'self'`
holds for them. FastAPI's `/docs` and `/redoc` load Swagger UI / ReDoc from a CDN with an
inline bootstrap script: they get a policy that allows just that.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP
        sent_token = any(
            k == b"authorization" and v.strip().lower().startswith(b"bearer ") and v.strip()[7:]
            for k, v in scope["headers"]
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in HEADERS} | {b"content-security-policy"}
                ]
                headers += [*HEADERS, (b"content-security-policy", csp.encode())]
                if message["status"] == 401 and not any(
                    k.lower() == b"www-authenticate" for k, _ in headers
                ):
                    challenge = 'Bearer realm="tuoyu"'
                    if sent_token:
                        challenge += ', error="invalid_token"'
                    headers.append((b"www-authenticate", challenge.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
