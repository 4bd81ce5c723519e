"""A private PostgreSQL cluster from Debian's `postgresql` package, for tests and CI.

Production points `TUOYU_DATABASE_URL` at its own server; this exists so that the test
suite runs against a real PostgreSQL on a free port without touching the system cluster.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from infra.process import ManagedProcess


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    which = shutil.which(name)
    if which is None:
        raise FileNotFoundError(f"PostgreSQL's {name} not found: install Debian's `postgresql`")
    return which


def _as_postgres() -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_postgres(home: Path, port: int, database: str = "tuoyu") -> tuple[ManagedProcess, str]:
    """Start (initialising on first use) a cluster in `home`; returns it and its URL."""
    data = home / "pgdata"
    home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [
                *_as_postgres(),
                pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
    proc = ManagedProcess(
        "postgres",
        [
            *_as_postgres(),
            pg_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(home),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            # Test clusters only: durability is not what these runs measure.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        home / "postgres.log",
        grace=15,
    ).start()
    admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def ready() -> bool:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True, connect_timeout=2) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        return True

    proc.wait_until(ready, 60, "accepting connections")
    return proc, f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
