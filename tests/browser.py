"""Driving the web pages in headless Chromium: log in with a token, take screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page


@dataclass
class Web:
    page: Page
    screenshots: Path

    async def login(self, token: str, path: str = "/") -> None:
        """Store the token the way the login box does, then open `path`."""
        await self.page.goto("/")
        await self.page.evaluate("t => localStorage.setItem('tuoyu.token', t)", token)
        await self.page.goto(path)

    async def shot(self, name: str) -> Path:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path
