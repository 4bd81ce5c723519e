"""Database engine and sessions. SQLite by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

SessionFactory = Callable[[], Session]


def make_engine(url: str, *, writer: bool = True) -> Engine:
    """`writer=False` for processes that only read (the API): on SQLite their transactions
    then start deferred and, in WAL mode, neither wait for writers nor hold them up."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

    # The driver's own transaction handling is switched off so that every transaction can
    # start with BEGIN IMMEDIATE: two deferred SQLite writers that both read first fail on
    # the upgrade to a write lock, and the busy timeout does not help them. (SQLAlchemy's
    # documented recipe for pysqlite.)
    # SQLite has one writer at a time. A writer process keeps one connection, so its threads
    # queue for it in Python and the next one starts the moment the last commits; with a
    # connection each they would queue in SQLite's busy handler, which polls with sleeps of
    # up to 100 ms and leaves the lock idle in between.
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 120} if writer else {}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def session_factory(engine: Engine) -> SessionFactory:
    def factory() -> Session:
        return Session(engine, expire_on_commit=False)

    return factory
