"""Apply the Alembic migrations and load reference data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from infra import reference
from infra.db import make_engine, session_factory

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def prepare_database(url: str) -> int:
    """Migrate to head, then upsert the units of `infra/data/units.toml`; returns their count."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return reference.load_units(session)
    finally:
        engine.dispose()
