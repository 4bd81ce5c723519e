"""Alembic environment: the URL comes from tuoyu's Settings unless the caller set one."""

from __future__ import annotations

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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration recreates a table (copy, drop, rename); with foreign keys
            # enforced, dropping a table that rows elsewhere refer to (cases) fails on a
            # database that holds data. Off for the migration (outside its transaction, as
            # SQLite requires), then checked and on again.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"foreign keys broken by a migration: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
