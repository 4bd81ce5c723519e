"""FastAPI dependencies, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from infra.kafka import KafkaPublisher
from infra.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_publisher(request: Request) -> KafkaPublisher:
    return request.app.state.publisher


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
PublisherDep = Annotated[KafkaPublisher, Depends(get_publisher)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
