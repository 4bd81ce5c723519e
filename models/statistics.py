"""Supervision statistics per unit and period (the leading group office's figures)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class Rate(BaseModel):
    hits: int = 0
    total: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return round(self.hits / self.total, 4) if self.total else None


class UnitStatistics(BaseModel):
    unit: str
    name: str
    rounds: int = 0  # times a case was dispatched to this unit as handler
    on_time_acceptance: Rate = Rate()  # 及时签收率
    on_time_closure: Rate = Rate()  # 按时办结率
    satisfaction: Rate = Rate()  # 满意率: 满意 and 基本满意 of the follow-ups
    # The follow-ups by the scale (satisfied, basically-satisfied, dissatisfied; "unrated" for
    # those recorded before the scale) and 问题解决率 of those that said.
    follow_up_ratings: dict[str, int] = {}
    problem_solved: Rate = Rate()
    escalations: int = 0  # records against the unit: taken up a level
    notice_interviews: int = 0  # records against the unit: 通报约谈
    supervised: int = 0  # supervision orders (督办) of the leading group office to the unit
    supervision_overdue: int = 0  # of them, not answered by their deadline


class Statistics(BaseModel):
    start: date
    end: date  # inclusive
    cases: int
    by_category: dict[str, int]
    by_town: dict[str, int]
    by_status: dict[str, int]
    units: list[UnitStatistics]
    direct_answers: int = 0  # consultations answered at the desk (直接答复), never dispatched


class Timeline(BaseModel):
    """Cases received per local month, by category and by town."""

    months: list[str]  # "2026-11"
    by_category: dict[str, list[int]]
    by_town: dict[str, list[int]]


class Target(BaseModel):
    code: str
    name: str
    target: float
    unit: str
    at_least: bool = True
    reported: float | None = None
    as_of: date | None = None


class TargetFigure(SQLModel, table=True):
    """The latest figure the leading group office reported for a 2025 target."""

    __tablename__ = "target_figures"

    code: str = SQLField(primary_key=True, max_length=64)
    reported: float
    as_of: date
    reported_by: str = SQLField(max_length=128)
    reported_at: datetime


class TargetFigureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reported: float = Field(ge=0, le=1000, description="the figure, in the target's unit")
    as_of: date = Field(description="the day the figure describes")
