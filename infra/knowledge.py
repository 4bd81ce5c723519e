"""The hotline desk's knowledge base: `infra/data/knowledge/*.toml`, validated on load like
the other reference data, searched by keyword, Chinese substring and pinyin."""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from infra import reference
from models.knowledge import KnowledgeEntry, KnowledgeHit

DIR = reference.DATA_DIR / "knowledge"


class KnowledgeError(ValueError):
    pass


def load(directory: Path = DIR) -> dict[str, KnowledgeEntry]:
    entries: dict[str, KnowledgeEntry] = {}
    units = reference.units()
    for path in sorted(directory.glob("*.toml")):
        raw = tomllib.loads(path.read_text("utf-8"))
        for item in raw.get("entry", []):
            try:
                entry = KnowledgeEntry.model_validate(item)
            except ValueError as exc:
                raise KnowledgeError(f"{path.name}: entry {item.get('id')!r}: {exc}") from exc
            if entry.id in entries:
                raise KnowledgeError(f"{path.name}: entry {entry.id!r} defined twice")
            if entry.department not in units:
                raise KnowledgeError(
                    f"{path.name}: entry {entry.id!r}: unknown unit {entry.department!r}"
                )
            entries[entry.id] = entry
    return entries


@functools.cache
def entries() -> dict[str, KnowledgeEntry]:
    return load()


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


@functools.cache
def _pinyin(text: str) -> tuple[str, str]:
    """Full syllables and initials: "yushoufei", "ysf"."""
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def score(entry: KnowledgeEntry, query: str) -> float:
    q = _norm(query)
    if not q:
        return 0.0
    total = 0.0
    # Chinese substring, and each word of a query typed with spaces (word order free).
    words = [w for w in (_norm(p) for p in query.split()) if w] or [q]
    for word in words:
        if any(word in _norm(k) or _norm(k) in word for k in entry.keywords):
            total += 3
        if word in _norm(entry.question):
            total += 2
        if word in _norm(entry.answer):
            total += 1
        if word.isascii() and word.isalpha():
            for text in (*entry.keywords, entry.question):
                full, initials = _pinyin(text)
                if word in full or (len(word) >= 2 and word in initials):
                    total += 2
                    break
    return total


def search(query: str, limit: int = 10) -> list[KnowledgeHit]:
    hits = [
        KnowledgeHit(**e.model_dump(), score=s)
        for e in entries().values()
        if (s := score(e, query)) > 0
    ]
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits[:limit]
