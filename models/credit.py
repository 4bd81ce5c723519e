"""Joint punishment (违法失信联合惩戒) through the public credit information sharing platform."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.actors import Actor
from models.bounds import Text
from models.credit_repair import CreditTier, CreditTiers
from models.credit_steps import CreditStage, CreditStepKind
from models.deadlines import DurationField

CREDIT_ENTRY_PREFIX = "credit-"


def credit_entry_id(case_id: str) -> str:
    """The credit entry of a case's joint punishment: its row's id and its workflow's id."""
    return f"{CREDIT_ENTRY_PREFIX}{case_id}"


def case_of_credit_entry(entry_id: str) -> str:
    """The case a credit entry id names (the inverse of `credit_entry_id`)."""
    return entry_id.removeprefix(CREDIT_ENTRY_PREFIX)


class Measure(BaseModel):
    department: str
    measure: str
    legal_basis: str


class PublicityRange(BaseModel):
    min_months: int = Field(ge=1)
    max_months: int = Field(ge=1)


class EnforcementPolicy(CreditTiers):
    """Loaded from `infra/data/enforcement.toml` or `TUOYU_ENFORCEMENT_FILE`. `ordinary` and
    `serious` are the two-tier ranges of the 2023 trial rules: entries published under them
    keep them; new ones follow the Order 36 `tiers`."""

    ban_legal_basis: str
    objection_window: DurationField
    acknowledge_within: DurationField
    lifting_within: DurationField | None = Field(
        default=None, description="each department lifts its measures within; default as ack"
    )
    ordinary: PublicityRange
    serious: PublicityRange
    measures: list[Measure]


class CreditStatus(StrEnum):
    NOTICED = "noticed"  # prior notice sent, objection window open
    OBJECTED = "objected"
    WITHDRAWN = "withdrawn"  # objection upheld: no entry
    PUBLISHED = "published"  # on the platform, publicity period running
    REMOVED = "removed"
    NOT_PUBLISHED = "not-published"  # Order 36 minor information, in principle not published


class CreditEntry(SQLModel, table=True):
    __tablename__ = "credit_entries"

    id: str = SQLField(primary_key=True, max_length=80)
    case_id: str = SQLField(foreign_key="cases.id", max_length=32, index=True)
    institution_key: str = SQLField(max_length=300, index=True)
    institution_name: str | None = SQLField(default=None, max_length=200)
    serious: bool
    reason: str = SQLField(max_length=2000)
    legal_basis: str = SQLField(max_length=500)
    status: CreditStatus = SQLField(sa_type=String(16))
    noticed_at: datetime
    objection_by: datetime
    published_at: datetime | None = None
    publicity_until: datetime | None = None
    removed_at: datetime | None = None
    removal_reason: str | None = SQLField(default=None, max_length=500)
    # Order 36 (migration 0020); empty for entries under the two-tier rules.
    tier: str | None = SQLField(default=None, max_length=16)
    commitment_at: datetime | None = None
    lifted_at: datetime | None = None


class CreditPlatformEvent(BaseModel):
    """Outbound on `tuoyu.credit-platform` (key: institution); also POSTed to a real
    platform when one is configured."""

    event_id: str
    occurred_at: AwareDatetime
    action: str = Field(description="entry or removal")
    entry_id: str
    institution_id: str | None
    institution_name: str | None
    serious: bool
    reason: str
    legal_basis: str
    publicity_until: AwareDatetime | None = None
    measures: list[Measure] = []
    tier: CreditTier | None = Field(default=None, description="Order 36 tier; none: two-tier")
    repaired: bool = Field(default=False, description="removal: by a granted credit repair")
    sharing_stopped: bool = Field(
        default=False, description="removal: sharing with the departments stops too"
    )


class JointPunishmentInput(BaseModel):
    entry_id: str
    case_id: str
    serious: bool
    publicity_months: int
    sanction: str | None = None
    reason: str
    legal_basis: str
    lead: list[str]
    town: str
    decided_by: Actor


class CreditPlan(BaseModel):
    objection_by: AwareDatetime
    publicity_until: AwareDatetime | None = None
    repair_from: AwareDatetime | None = None
    acknowledge_by: AwareDatetime | None = None
    acknowledge_final_by: AwareDatetime | None = None
    departments: list[str] = Field(default=[], description="member departments with measures")
    tier: CreditTier | None = None
    lift_by: AwareDatetime | None = None
    lift_final_by: AwareDatetime | None = None


class PlanCredit(BaseModel):
    start: AwareDatetime
    stage: CreditStage
    serious: bool
    publicity_months: int
    order36: bool = False
    sanction: str | None = None
    decided_at: AwareDatetime | None = Field(
        default=None, description="Order 36 counts the period from the finding"
    )


class CreditStep(BaseModel):
    """One step of a joint punishment, to persist, publish and announce."""

    entry_id: str
    step: CreditStepKind
    actor: Actor
    at: AwareDatetime
    reason: str | None = None
    plan: CreditPlan
    pending: list[str] = Field(default=[], description="departments yet to acknowledge")
    serious: bool = False
    legal_basis: str = ""
    order36: bool = False
    repaired: bool = False


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ObjectionBody(_Body):
    reason: Text = Field(min_length=2, max_length=2000)


class ReviewBody(_Body):
    upheld: bool = Field(description="objection or repair request granted")
    reason: Text = Field(min_length=2, max_length=2000)


class AcknowledgeBody(_Body):
    note: Text | None = Field(default=None, max_length=2000)


class RecordObjection(ObjectionBody):
    actor: Actor


class Review(ReviewBody):
    actor: Actor


class Acknowledge(AcknowledgeBody):
    actor: Actor


class RequestRepair(ObjectionBody):
    actor: Actor


class JointPunishmentState(BaseModel):
    entry_id: str
    status: CreditStatus = CreditStatus.NOTICED
    plan: CreditPlan | None = None
    objection: str | None = None
    repair_request: str | None = None
    acknowledged: list[str] = []
    pending: list[str] = []
    reminded: bool = False
    escalated: bool = False
    rules: str = Field(default="two-tier", description="two-tier (2023) or order-36")
    tier: CreditTier | None = None
    commitment: str | None = None
    lifting: list[str] = Field(default=[], description="departments yet to lift measures")
    lifted: list[str] = []
    lifting_reminded: bool = False
    lifting_escalated: bool = False
