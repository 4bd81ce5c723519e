"""A database of its own for a test that tampers with the audit trail, on the leg's server."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url


def own_database(database_url: str, folder: Path) -> str:
    """A fresh SQLite file in `folder`, or a fresh database on the leg's PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{folder / 'audit.db'}"
    name = f"audit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)
