"""Signing in to the web pages: a password, a session in an HttpOnly SameSite=Strict cookie
(nothing in local storage), sign-out and expiry ending the session on the server, CSRF
refused, bearer tokens still working for systems. Also the public pages: /status without
the staff menu, /docs without the internet, and a phone-sized screen without sideways
scrolling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import update
from sqlmodel import col, select

from infra.db import make_engine, session_factory
from models.audit import AuditRecord
from models.users import SignInFailure, WebSession
from tests.auth import Tokens
from tests.browser import Web
from tests.conftest import SCREENSHOTS
from workers.stack import Stack


async def test_sign_in_sign_out_and_expiry(
    stack: Stack, web: Web, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = web.page
    await page.goto("/inbox")
    await expect(page.locator("#notice")).to_contain_text("请先登录")
    await expect(page.locator("#cases")).to_be_hidden()  # no empty cards
    await web.shot("signin-1-signed-out-inbox")

    name, password = tokens.new_credentials("town", "town-kaitang")
    await page.goto("/login?next=/inbox")
    await page.fill("#name", name)
    await page.fill("#password", "wrong-password")
    await page.click("#signin-submit")
    await expect(page.locator("#signin-error")).to_contain_text("用户名或密码不正确")
    await page.fill("#password", password)
    await page.click("#signin-submit")
    await page.wait_for_url("**/inbox")
    await expect(page.locator("#who-name")).to_contain_text(name)
    await web.shot("signin-2-signed-in")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["tuoyu_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert not cookies["tuoyu_csrf"]["httpOnly"]
    assert await page.evaluate("localStorage.length") == 0
    assert await page.evaluate("document.cookie.includes('tuoyu_session')") is False

    # The cookie without the CSRF header cannot change anything; with it, it can.
    base = page.url.split("/inbox")[0]
    jar = {"tuoyu_session": session["value"], "tuoyu_csrf": cookies["tuoyu_csrf"]["value"]}
    async with httpx.AsyncClient(base_url=base, cookies=jar) as browserless:
        me = await browserless.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["name"] == name
        forged = await browserless.post(
            "/api/v1/cases/TY20990101-0000000000/notes", json={"text": "x"}
        )
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
        other_site = await browserless.post(
            "/api/v1/cases/TY20990101-0000000000/notes",
            json={"text": "x"},
            headers={"X-CSRF-Token": jar["tuoyu_csrf"], "Origin": "http://evil.example"},
        )
        assert other_site.status_code == 403

    # Sign-out ends the session on the server: the old cookie is worth nothing.
    await page.click("#logout")
    await page.wait_for_url("**/login?signed_out=1")
    await expect(page.locator("#signin-state")).to_contain_text("已退出登录")
    async with httpx.AsyncClient(base_url=base, cookies=jar) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401

    # Expiry: a session past its time is refused, and the page says so.
    await web.login((name, password), "/inbox")
    engine = make_engine(stack.settings.resolved_database_url)
    with session_factory(engine)() as db:
        db.exec(update(WebSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    engine.dispose()
    await page.reload()
    await expect(page.locator("#notice")).to_contain_text("请先登录")
    await web.shot("signin-3-expired")

    # Systems keep their bearer tokens.
    assert (await http.get("/api/v1/me")).status_code == 200


async def test_public_pages_docs_offline_and_a_phone_screen(
    stack: Stack, browser: Browser, tokens: Tokens
) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}"
    context = await browser.new_context(
        base_url=base, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    external: list[str] = []
    context.on("request", lambda r: external.append(r.url) if not r.url.startswith(base) else None)
    try:
        page = await context.new_page()
        web = Web(page, SCREENSHOTS)
        await page.goto("/status")
        await expect(page.locator("nav")).to_have_count(0)
        await expect(page.locator("#who")).to_have_count(0)
        await web.shot("phone-status")
        await page.goto("/docs")
        await expect(page.locator(".swagger-ui .info")).to_contain_text("tuoyu")
        for path in ("/hotline", "/inbox", "/dashboard", "/status", "/login"):
            if path != "/status" and path != "/login":
                await web.login(tokens.credentials("leading-office", "leading-office"), path)
            else:
                await page.goto(path)
            await page.wait_for_load_state("networkidle")
            wide = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            culprits = await page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right"
                " > document.documentElement.clientWidth + 1)"
                ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
            )
            assert wide <= 0, (path, wide, culprits)
        await web.shot("phone-dashboard")
        assert not external, external  # nothing from the internet
    finally:
        await context.close()


async def test_five_wrong_passwords_lock_the_name_for_a_while_and_are_audited(
    stack: Stack, web: Web, tokens: Tokens
) -> None:
    name, password = tokens.new_credentials("town", "town-kaitang")
    other, other_password = tokens.new_credentials("town", "town-kaitang")
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}"
    async with httpx.AsyncClient(base_url=base) as client:

        async def sign_in(who: str, secret: str) -> httpx.Response:
            return await client.post("/api/v1/session", json={"name": who, "password": secret})

        for _ in range(4):
            assert (await sign_in(name, "not-the-password")).status_code == 401
        fifth = await sign_in(name, "not-the-password")
        assert fifth.status_code == 429, fifth.text
        assert fifth.json()["error"]["code"] == "too_many_attempts"
        assert "分钟后再试" in fifth.json()["error"]["message"]
        assert 0 < int(fifth.headers["Retry-After"]) <= 15 * 60 + 1
        # Locked: even the right password is refused, without being checked.
        assert (await sign_in(name, password)).status_code == 429
        # Another name is not affected.
        assert (await sign_in(other, other_password)).status_code == 200

    # The page says so in Chinese.
    page = web.page
    await page.goto("/login?next=/inbox")
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("#signin-submit")
    await expect(page.locator("#signin-error")).to_contain_text("密码错误次数过多")
    await web.shot("signin-4-locked")

    # Audited: each wrong password and each refused attempt, never the password typed.
    engine = make_engine(stack.settings.resolved_database_url)
    with session_factory(engine)() as db:
        records = db.exec(select(AuditRecord).where(AuditRecord.actor == f"web:{name}")).all()
        assert [r.action for r in records].count("signin.failed") == 5
        assert [r.action for r in records].count("signin.refused") == 2
        assert all("not-the-password" not in r.model_dump_json() for r in records)
        # The window passes: the name may sign in again, and a success clears the count.
        db.exec(
            update(SignInFailure)
            .where(col(SignInFailure.name) == name)
            .values(failed_at=datetime.now(UTC) - timedelta(minutes=16))
        )
        db.commit()
    engine.dispose()
    await web.login((name, password), "/inbox")
