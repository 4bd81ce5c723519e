"""Spreadsheet-safe CSV cells (OWASP "CSV Injection"): a cell a spreadsheet would read as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`,
which spreadsheets show as text and do not display."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
