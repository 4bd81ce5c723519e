"""Waiting for what the running stack does asynchronously (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx


async def eventually(check: Callable[[], bool], within: float = 120) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def eventually_async(check: Callable[[], Awaitable[bool]], within: float = 120) -> bool:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.3)
    return True


async def wait_for_case(
    http: httpx.AsyncClient, case_id: str, within: float = 120, **expected: Any
) -> dict[str, Any]:
    """The case as the API shows it, once it exists and its fields have the expected values."""
    deadline = time.monotonic() + within
    while True:
        response = await http.get(f"/api/v1/cases/{case_id}")
        case = response.json() if response.status_code == 200 else {}
        if case and all(case.get(k) == v for k, v in expected.items()):
            return case
        assert time.monotonic() < deadline, (response.status_code, case, expected)
        await asyncio.sleep(0.2)
