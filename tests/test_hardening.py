"""Hardening: the 401 challenge, security headers on pages and API, private files in the
data dir, spreadsheet-safe CSV exports, and users that can be disabled, rotated and whose
tokens expire."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, select

from infra.db import make_engine
from models.users import User
from tests.auth import Tokens
from tests.factories import complaint_payload
from tests.polling import wait_for_case
from workers.stack import Stack, child_env

VENV_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def tuoyu(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tuoyu", *args],
        env={**child_env(stack.settings), "PATH": VENV_PATH},
        capture_output=True,
        text=True,
    )


async def test_a_401_carries_the_bearer_challenge(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/v1/me", headers={"Authorization": ""})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "invalid_token" not in missing.headers["www-authenticate"]
    wrong = await http.get("/api/v1/me", headers={"Authorization": "Bearer ty_wrong"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


async def test_every_page_and_api_answer_sends_the_security_headers(
    http: httpx.AsyncClient,
) -> None:
    for path in ("/", "/hotline", "/bans", "/dashboard", "/static/app.js", "/api/v1/me",
                 "/api/v1/cases/TY-NONE", "/openapi.json", "/nowhere"):  # fmt: skip
        response = await http.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert value in response.headers.get(name, ""), (path, name, response.headers)


def test_the_data_dir_and_its_files_are_private(stack: Stack) -> None:
    data = Path(stack.settings.data_dir)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file() and not p.is_symlink()]
    names = {p.name for p in files}
    assert {"api.log", "temporal-worker.log"} <= names, names
    if stack.settings.resolved_database_url.startswith("sqlite"):
        assert {"tuoyu.db", "tuoyu.db-wal"} <= names, names
    assert any(p.parent.name == "temporal" for p in files), names  # Temporal's database
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
             if stat.S_IMODE(p.stat().st_mode) & 0o077}  # fmt: skip
    assert loose == {}
    dirs = [p for p in data.rglob("*") if p.is_dir() and not p.is_symlink()]
    assert [str(p) for p in dirs if stat.S_IMODE(p.stat().st_mode) & 0o077] == []


async def test_the_audit_csv_export_quotes_formulas(stack: Stack, http: httpx.AsyncClient) -> None:
    name = f'=HYPERLINK("http://x","托育{uuid.uuid4().hex[:6]}")'
    payload = complaint_payload(institution_name=name)
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    await wait_for_case(http, response.json()["case_id"])
    done = await asyncio.to_thread(tuoyu, stack, "audit", "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    cells = [c for row in csv.reader(io.StringIO(done.stdout)) for c in row]
    assert "'" + name in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


async def test_users_can_be_disabled_and_rotated_and_tokens_expire(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    def me(token: str) -> httpx.Response:
        return httpx.get(
            f"http://{stack.settings.http_host}:{stack.settings.http_port}/api/v1/me",
            headers={"Authorization": f"Bearer {token}"},
        )

    name = f"rotating-{uuid.uuid4().hex[:6]}"
    added = await asyncio.to_thread(tuoyu, stack, "users", "add", name, "--role", "auditor")
    assert added.returncode == 0, added.stderr
    old = added.stdout.strip()
    assert (await asyncio.to_thread(me, old)).status_code == 200
    rotated = await asyncio.to_thread(tuoyu, stack, "users", "rotate", name)
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new != old
    assert (await asyncio.to_thread(me, new)).status_code == 200
    stale = await asyncio.to_thread(me, old)
    assert stale.status_code == 401 and stale.json()["error"]["code"] == "invalid_token"

    # Issued longer ago than TUOYU_TOKEN_TTL (30 days by default): expired, said so.
    engine = make_engine(stack.settings.resolved_database_url)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.name == name)).one()
        user.token_issued_at = datetime.now(UTC) - timedelta(days=31)
        session.add(user)
        session.commit()
    engine.dispose()
    expired = await asyncio.to_thread(me, new)
    assert expired.status_code == 401, expired.text
    assert expired.json()["error"]["code"] == "token_expired"
    assert expired.json()["error"]["message"].startswith("令牌已过期")
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    fresh = (await asyncio.to_thread(tuoyu, stack, "users", "rotate", name)).stdout.strip()
    assert (await asyncio.to_thread(me, fresh)).status_code == 200

    disabled = await asyncio.to_thread(tuoyu, stack, "users", "disable", name)
    assert disabled.returncode == 0, disabled.stderr
    refused = await asyncio.to_thread(me, fresh)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "user_disabled"
    assert "停用" in refused.json()["error"]["message"]
    again = await asyncio.to_thread(tuoyu, stack, "users", "rotate", name)
    assert again.returncode == 2  # a disabled user gets no new token
    unknown = await asyncio.to_thread(tuoyu, stack, "users", "disable", "nobody-" + name)
    assert unknown.returncode == 2
