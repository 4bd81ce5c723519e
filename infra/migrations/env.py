"""Alembic environment: the URL comes from tuoyu's Settings unless the caller set one."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from infra.db import make_engine
from infra.settings import get_settings

# Every module with tables, so that they register on SQLModel.metadata for autogenerate.
from models import (  # noqa: F401
    attachments,
    audit,
    bans,
    camera,
    cases,
    credit,
    enforcement,
    inspections,
    institutions,
    intake,
    integrity,
    notifications,
    open311,
    outbox,
    parking,
    staff,
    statistics,
    units,
    users,
)

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    with engine.connect() as connection:
        raw: Any = None
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration recreates a table (copy, drop, rename); with foreign keys
            # enforced, dropping a table that rows elsewhere refer to (cases) fails on a
            # database that holds data. Off for the migration (outside its transaction, as
            # SQLite requires: on the driver's connection, before SQLAlchemy begins one), then
            # checked and on again.
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.commit()  # nothing open while the pragma changes
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"foreign keys broken by a migration: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
