"""Knowledge-base entries of the hotline desk (知识库), after the knowledge-point elements of
GB/T 44191-2024: question, answer, keywords, category, policy source, responsible unit,
effective and review dates."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class PolicySource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=200)
    document_number: str = Field(
        min_length=4, max_length=64, pattern=r"〔\d{4}〕", description="e.g. 凯府办函〔2021〕54号"
    )
    section: str | None = Field(default=None, max_length=64)


class KnowledgeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    question: str = Field(min_length=4, max_length=200)
    answer: str = Field(min_length=10, max_length=2000)
    keywords: list[str] = Field(min_length=1, max_length=20)
    category: str = Field(min_length=2, max_length=32)
    source: PolicySource
    department: str = Field(description="unit code of the responsible unit")
    effective_from: date
    reviewed_on: date


class KnowledgeHit(KnowledgeEntry):
    score: float
