"""Driving the web pages in headless Chromium: sign in with a password, take screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Page, expect


@dataclass
class Web:
    page: Page
    screenshots: Path

    async def login(self, credentials: tuple[str, str], path: str = "/") -> None:
        """Sign in on the login page as a person would, then open `path`."""
        await self.page.context.clear_cookies()
        await self.page.goto("/login?next=" + path)
        await self.page.fill("#name", credentials[0])
        await self.page.fill("#password", credentials[1])
        await self.page.click("#signin-submit")
        # The path itself, not a glob: "**/held" also matches the login page's own
        # "/login?next=/held", which returned before the sign-in went through.
        target = urlsplit(path).path
        await self.page.wait_for_url(lambda url: urlsplit(url).path == target)
        await expect(self.page.locator("#who-name")).to_contain_text(credentials[0])

    async def shot(self, name: str) -> Path:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path
