"""Sanctions decided on a substantiated case, and what the enforcement workflow exchanges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.actors import Actor
from models.bounds import Line, Text
from models.cases import Outcome
from models.complaints import Category
from models.people import PersonIdentity, PersonRef


def enforcement_workflow_id(case_id: str) -> str:
    """The enforcement workflow of a substantiated case (started by the case workflow)."""
    return f"enforcement-{case_id}"


class SanctionKind(StrEnum):
    RECTIFICATION = "rectification"  # 责令整改, with a deadline and a re-inspection
    WARNING = "warning"  # 警告
    FINE = "fine"  # 罚款
    SUSPENSION = "suspension"  # 责令停业整顿
    REVOCATION = "revocation"  # 吊销登记


class RectificationStatus(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"

    id: str = SQLField(primary_key=True, max_length=80)
    case_id: str = SQLField(foreign_key="cases.id", max_length=32, index=True)
    institution_key: str = SQLField(max_length=300, index=True)
    kind: SanctionKind = SQLField(sa_type=String(16))
    legal_basis: str = SQLField(max_length=500)
    reason: str = SQLField(max_length=2000)
    deciding_unit: str = SQLField(max_length=64)
    decided_by: str = SQLField(max_length=128)
    decided_at: datetime
    fine_yuan: Decimal | None = None
    rectify_by: datetime | None = None
    rectification: RectificationStatus | None = SQLField(default=None, sa_type=String(16))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DecisionBody(_Body):
    kind: SanctionKind
    legal_basis: Text = Field(
        min_length=2, max_length=500, description="e.g. 《托育机构设置标准（试行）》第…条"
    )
    reason: Text = Field(min_length=2, max_length=2000)
    fine_yuan: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    rectify_within_days: int | None = Field(
        default=None, ge=1, le=365, description="rectification: working days to rectify"
    )


class ReinspectionBody(_Body):
    decision_id: Line = Field(min_length=1, max_length=80)
    passed: bool
    findings: Text = Field(min_length=2, max_length=5000)


class JointPunishmentBody(_Body):
    serious: bool = Field(
        default=False, description="without `sanction`: the serious tier, else the general"
    )
    sanction: Line | None = Field(
        default=None,
        max_length=40,
        description="a sanction code of the enforcement file's tier table: sets the tier",
    )
    publicity_months: int = Field(ge=0, le=36, description="0: minor, not published")
    legal_basis: Text = Field(min_length=2, max_length=500)
    reason: Text = Field(min_length=2, max_length=2000)


class Decide(DecisionBody):
    actor: Actor


class Reinspect(ReinspectionBody):
    actor: Actor


class StartJointPunishment(JointPunishmentBody):
    actor: Actor


class PersonsBody(_Body):
    """Persons a substantiated abuse result names; hashed by the API before anything else."""

    persons: list[PersonIdentity] = Field(default_factory=list, max_length=20)


class EnforcementInput(BaseModel):
    case_id: str
    category: Category
    outcome: Outcome
    findings: str
    town: str
    lead: list[str]
    persons: list[PersonRef] = []
    abuse_at: AwareDatetime = Field(description="when the abuse happened (the complaint's time)")
    decisions: list[str] = Field(default=[], description="carried over on continue-as-new")


class IssueBans(BaseModel):
    case_id: str
    persons: list[PersonRef]
    abuse_at: AwareDatetime
    decided_at: AwareDatetime
    reason: str


class BanIssued(BaseModel):
    ban_id: str
    person_hash: str
    person_masked: str
    name: str
    role: str


class RecordDecision(BaseModel):
    decision_id: str
    case_id: str
    decision: DecisionBody
    actor: Actor
    decided_at: AwareDatetime
    rectify_by: AwareDatetime | None = None


class RecordReinspection(BaseModel):
    case_id: str
    reinspection: ReinspectionBody
    actor: Actor
    at: AwareDatetime


class EnforcementState(BaseModel):
    case_id: str
    bans: list[BanIssued] = []
    decisions: list[str] = []
    open_rectifications: dict[str, AwareDatetime] = {}
    reinspection_reminded: list[str] = []
    failed_reinspections: int = 0
    joint_punishment: str | None = None


class CorrectionBody(_Body):
    reason: Text = Field(min_length=2, max_length=2000, description="e.g. the court ruling")


class CorrectBan(CorrectionBody):
    ban_id: str
    actor: Actor
    at: AwareDatetime | None = None


class RemindReinspection(BaseModel):
    case_id: str
    decision_id: str
    due: AwareDatetime
    at: AwareDatetime
