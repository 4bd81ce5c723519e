"""A JSON body that names one key twice is refused, not read as its last value.

`{"category": "child-abuse", "category": "injury"}` is valid JSON, and Python's parser keeps
the last value: one client's reading of the body (the first) and tuoyu's (the last) would
differ, and a case be opened under a category nobody saw. Checked as an app-wide dependency,
after FastAPI has parsed the body (so invalid JSON is still reported as such) and before any
route reads it; the refusal goes through the validation handler (Chinese message, dead letter).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

DUPLICATE_KEY = "duplicate_key"


class _Repeated(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Repeated(key)
        seen[key] = value
    return seen


async def single_keys(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()
    try:
        json.loads(body, object_pairs_hook=_once)
    except _Repeated as repeated:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", repeated.key[:64]),
                    "msg": f"key {repeated.key[:64]!r} appears more than once",
                    "type": DUPLICATE_KEY,
                }
            ]
        ) from None
    except ValueError:
        return  # not JSON: the route's own parsing reports it
