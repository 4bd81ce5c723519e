"""Inspection findings on `tuoyu.inspections`: spot checks, annual reviews, health inspections,
and the automatic monitoring of the video system. A serious finding opens (or joins) a case;
a minor one becomes a rectification item for the institution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.bounds import EventTime, Line, Text


class Severity(StrEnum):
    SERIOUS = "serious"  # opens or joins a case
    MINOR = "minor"  # a rectification item with a deadline


class FindingCode(StrEnum):
    """The plan's requirements an inspector checks (infra/data/findings.toml has their names,
    default severity, case category and rectification period)."""

    HEALTH_CHECK_ADMISSION = "health-check-admission"  # 入托（入职）健康检查
    HEALTH_CHECK_YEARLY = "health-check-yearly"  # 年度健康检查
    DAILY_HEALTH_CHECK = "daily-health-check"  # 晨午检
    DISINFECTION = "disinfection"  # 消毒
    SICK_ISOLATION = "sick-isolation"  # 患病儿童隔离
    INFECTIOUS_DISEASE = "infectious-disease"  # 传染病防控
    FIRE_SAFETY = "fire-safety"  # 消防安全与疏散
    STAFFING = "staffing"  # 人员配备与资质
    VIDEO_PSB = "video-psb"  # 视频监控接入公安
    PREPAID_FEES = "prepaid-fees"  # 预收费用超过一个月
    BUSINESS_SCOPE = "business-scope"  # 超范围经营
    FOOD_SAFETY = "food-safety"  # 食品安全
    REGISTRATION = "registration"  # 登记备案


class InspectionKind(StrEnum):
    SPOT_CHECK = "spot-check"  # 双随机抽查
    ANNUAL_REVIEW = "annual-review"  # 年度评估
    HEALTH_INSPECTION = "health-inspection"  # 卫生保健检查
    MONITORING = "monitoring"  # raised by the platform itself (video keepalive lost)


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: FindingCode
    severity: Severity | None = Field(
        default=None, description="default: the code's severity in the finding catalogue"
    )
    note: Text = Field(default="", max_length=2000)


class InspectionBody(BaseModel):
    """What an inspecting unit submits."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: InspectionKind
    institution_id: Line = Field(min_length=1, max_length=64)
    institution_name: Line | None = Field(default=None, max_length=200)
    town: Line = Field(min_length=1, max_length=64, description="town, street or zone code")
    inspector_unit: Line = Field(min_length=1, max_length=64, description="inspecting unit code")
    findings: list[Finding] = Field(min_length=1, max_length=50)


class InspectionReport(InspectionBody):
    """Inbound event on `tuoyu.inspections`; key = institution id."""

    event_id: Line = Field(min_length=1, max_length=128, description="idempotency key")
    occurred_at: EventTime


class FindingStatus(StrEnum):
    OPEN = "open"  # a rectification item waiting for the institution
    CASE = "case"  # serious: handled as a case
    RECTIFIED = "rectified"


class FindingBase(SQLModel):
    id: str = SQLField(primary_key=True, max_length=160, description="event id : position")
    event_id: str = SQLField(max_length=128, index=True)
    kind: InspectionKind = SQLField(sa_type=String(24))
    institution_id: str = SQLField(max_length=64, index=True)
    institution_name: str | None = SQLField(default=None, max_length=200)
    town: str = SQLField(max_length=64, index=True)
    inspector_unit: str = SQLField(max_length=64)
    code: FindingCode = SQLField(sa_type=String(32))
    severity: Severity = SQLField(sa_type=String(16))
    note: str = SQLField(default="", max_length=2000)
    status: FindingStatus = SQLField(sa_type=String(16), index=True)
    case_id: str | None = SQLField(default=None, max_length=64)
    found_at: datetime
    due_at: datetime | None = None


class InspectionFinding(FindingBase, table=True):
    __tablename__ = "inspection_findings"


class InspectionFindingPublic(FindingBase):
    pass


class InspectionOutcome(BaseModel):
    """What recording an inspection produced: findings kept, and the cases to open."""

    recorded: int
    rectification_items: int
    cases: list[str] = []
