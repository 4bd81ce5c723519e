"""Finding an institution by what a caller says: parts of the name in any order, or the
pinyin initials of the name (贝贝托育 -> "bbty"), as a hotline operator types them.

The registry of a city is small (Kaili: a few hundred institutions), so the initials are
computed in Python over the names that the SQL prefilter leaves, and cached per name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlmodel import Session, col, select

from models.institutions import Institution

LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=8192)
def initials(name: str) -> str:
    """The first letter of every character's pinyin; letters and digits as they are."""
    # Whole name at once (phrases decide polyphones: 重庆 -> cq); other characters kept as is.
    # (pypinyin's stubs say the callback returns a str; a list of characters is documented.)
    keep: Any = lambda chunk: list(chunk)  # noqa: E731
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=keep)
    return "".join(p[:1] for p in letters).lower()


def search(session: Session, q: str, town: str | None, limit: int) -> list[Institution]:
    words = q.split()
    query = select(Institution).order_by(col(Institution.name))
    if town:
        query = query.where(Institution.town == town)
    letters = [w.lower() for w in words if LETTERS.fullmatch(w.lower())]
    chinese = [w for w in words if w.lower() not in letters]
    # Every word must appear, in any order.
    for word in chinese:
        query = query.where(col(Institution.name).contains(word, autoescape=True))
    if not letters:
        return list(session.exec(query.limit(limit)).all())
    found: list[Institution] = []
    for institution in session.exec(query).all():
        name = institution.name.lower()
        if all(w in name or w in initials(institution.name) for w in letters):
            found.append(institution)
            if len(found) == limit:
                break
    return found
