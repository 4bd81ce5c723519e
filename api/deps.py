"""FastAPI dependencies, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

from api.errors import ApiError
from infra.identity import IdentityHasher
from infra.kafka import KafkaPublisher
from infra.settings import Settings
from infra.temporal import connect
from infra.vault import Vault
from models.credit import EnforcementPolicy


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_publisher(request: Request) -> KafkaPublisher:
    return request.app.state.publisher


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_audit_session(request: Request) -> Iterator[Session]:
    """A writing session, for the audit records of views of protected data."""
    with request.app.state.audit_sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
AuditSessionDep = Annotated[Session, Depends(get_audit_session)]
PublisherDep = Annotated[KafkaPublisher, Depends(get_publisher)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_temporal(request: Request) -> Client:
    """One client per process, connected on first use: the API starts even while Temporal
    is still coming up, and answers 503 until it is there."""
    state = request.app.state
    if state.temporal is None:
        async with state.temporal_lock:
            if state.temporal is None:
                try:
                    state.temporal = await connect(state.settings)
                except RuntimeError as exc:
                    raise ApiError(
                        503, "workflow_unavailable", "办案系统暂时不可用，请稍后重试。", str(exc)
                    ) from exc
    client: Client = state.temporal
    return client


TemporalDep = Annotated[Client, Depends(get_temporal)]


def get_hasher(request: Request) -> IdentityHasher:
    hasher: IdentityHasher = request.app.state.hasher
    return hasher


def get_enforcement_policy(request: Request) -> EnforcementPolicy:
    policy: EnforcementPolicy = request.app.state.enforcement
    return policy


def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


HasherDep = Annotated[IdentityHasher, Depends(get_hasher)]
VaultDep = Annotated[Vault, Depends(get_vault)]
EnforcementPolicyDep = Annotated[EnforcementPolicy, Depends(get_enforcement_policy)]
