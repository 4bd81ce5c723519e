"""Names and types of the cases' Temporal search attributes (never personal data)."""

from __future__ import annotations

KEYWORD, DATETIME = "Keyword", "Datetime"
CASE_SEARCH_ATTRIBUTES = {
    "TuoyuCaseId": KEYWORD,
    "TuoyuCategory": KEYWORD,
    "TuoyuTown": KEYWORD,
    "TuoyuHandler": KEYWORD,
    "TuoyuStatus": KEYWORD,
    "TuoyuPriority": KEYWORD,
    "TuoyuDueAt": DATETIME,
}
# As `temporal server start-dev --search-attribute NAME=TYPE` takes them.
REGISTRATION = [f"{name}={kind}" for name, kind in CASE_SEARCH_ATTRIBUTES.items()]
