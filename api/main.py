"""The FastAPI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version

from fastapi import Depends, FastAPI

from api import (
    errors,
    inbox,
    metrics,
    routes_actions,
    routes_attachments,
    routes_audit,
    routes_bans,
    routes_cases,
    routes_codec,
    routes_complaints,
    routes_credit,
    routes_desk,
    routes_enforcement,
    routes_intake,
    routes_integrity,
    routes_public,
    routes_statistics,
    routes_workorder,
    signin,
)
from api.json_keys import single_keys
from api.limits import BodyLimit
from api.open311 import desk as open311_desk
from api.open311 import formats as open311_formats
from api.open311 import routes as open311
from api.security import SecurityHeaders
from api.web import pages
from infra import boundaries
from infra.codec import EncryptionCodec
from infra.db import make_engine, session_factory
from infra.deadlines import load_enforcement, load_policy
from infra.identity import load_hasher
from infra.kafka import KafkaPublisher
from infra.settings import Settings, get_settings
from infra.vault import load_vault


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url, writer=False)
        app.state.settings = settings
        app.state.sessions = session_factory(engine)
        writer = make_engine(settings.resolved_database_url)
        app.state.audit_sessions = session_factory(writer)
        app.state.publisher = KafkaPublisher.for_settings(settings)
        app.state.hasher = load_hasher(settings)
        app.state.vault = load_vault(settings)
        app.state.codec = EncryptionCodec(app.state.vault)
        app.state.enforcement = load_enforcement(settings.enforcement_file)
        app.state.policy = load_policy(settings.deadlines_file)
        boundaries.load(settings.open311_boundaries)  # a broken boundary file stops the start
        app.state.temporal = None
        app.state.temporal_lock = asyncio.Lock()
        try:
            yield
        finally:
            app.state.publisher.close()
            engine.dispose()
            writer.dispose()

    # /docs is served by the web pages with Swagger UI from the fastapi-offline package: it
    # works without the internet and without an inline script.
    app = FastAPI(
        title="tuoyu",
        version=package_version("tuoyu"),
        lifespan=lifespan,
        docs_url=None,
        dependencies=[Depends(single_keys)],
    )
    errors.install(app)
    open311_formats.install(app)
    metrics.install(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.http_max_body_bytes,
        attachment_bytes=settings.attachment_max_bytes,
    )
    app.add_middleware(routes_codec.CodecCors, origins=routes_codec.cors_origins(settings))
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, the 413s included
    app.include_router(signin.router)
    app.include_router(routes_complaints.router)
    app.include_router(routes_cases.router)
    app.include_router(inbox.router)
    app.include_router(routes_actions.router)
    app.include_router(routes_workorder.router)
    app.include_router(routes_attachments.router)
    app.include_router(routes_desk.router)
    app.include_router(routes_statistics.router)
    app.include_router(routes_enforcement.router)
    app.include_router(routes_bans.router)
    app.include_router(routes_integrity.router)
    app.include_router(routes_credit.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_intake.router)
    app.include_router(routes_public.router)
    app.include_router(open311.router)
    app.include_router(open311_desk.router)
    app.include_router(routes_codec.router)
    app.include_router(pages.router)
    app.mount("/static", pages.static, name="static")
    app.mount("/docs-assets", pages.swagger_assets, name="docs-assets")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
