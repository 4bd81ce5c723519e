"""Credit repair under NDRC Order No. 36 (《信用修复管理办法》, in force since 2026-04-01):
three tiers of dishonesty information, the sanction-to-tier table, the institution's credit
commitment, and the synchronous lifting of every department's measures."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from models.actors import Actor
from models.bounds import Text
from models.credit_steps import CreditStepKind


class CreditTier(StrEnum):
    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    SERIOUS = "serious"  # 严重


TIER_NAMES = {CreditTier.MINOR: "轻微", CreditTier.GENERAL: "一般", CreditTier.SERIOUS: "严重"}

# The publication periods Order 36 sets, in months: (min, max). A table that asks for a
# period outside them is refused at load. Minor information is in principle not published;
# when published, for at most 3 months, and repairable once the legal duty is fulfilled.
ORDER_36_MONTHS = {
    CreditTier.MINOR: (0, 3),
    CreditTier.GENERAL: (3, 12),
    CreditTier.SERIOUS: (12, 36),
}


class TierPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_months: int = Field(ge=0, description="repair is accepted once this has passed")
    max_months: int = Field(ge=1, description="publication ends by itself after this")
    published: bool = Field(description="published at all, in principle")
    legal_basis: str = Field(min_length=2)


def _order_36_tiers() -> dict[CreditTier, TierPeriod]:
    basis = "《信用修复管理办法》（国家发展改革委令第36号）"
    return {
        tier: TierPeriod(
            min_months=low,
            max_months=high,
            published=tier is not CreditTier.MINOR,
            legal_basis=basis,
        )
        for tier, (low, high) in ORDER_36_MONTHS.items()
    }


class TierRule(BaseModel):
    """One row of the table: a sanction, the tier its dishonesty information falls in, and
    why."""

    model_config = ConfigDict(extra="forbid")

    sanction: str = Field(pattern=r"^[a-z0-9-]{2,40}$", description="code the lead names")
    name: str = Field(min_length=2, description="the sanction, as users read it")
    tier: CreditTier
    legal_basis: str = Field(min_length=2)


class CreditTiers(BaseModel):
    """The `[tiers.*]` and `[[tier_rules]]` tables of the enforcement file, validated."""

    tiers: dict[CreditTier, TierPeriod] = Field(default_factory=_order_36_tiers)
    tier_rules: list[TierRule] = []

    @model_validator(mode="after")
    def _within_order_36(self) -> CreditTiers:
        missing = [t for t in CreditTier if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers missing: {', '.join(missing)}")
        for tier, period in self.tiers.items():
            low, high = ORDER_36_MONTHS[tier]
            if not low <= period.min_months <= period.max_months <= high:
                raise ValueError(
                    f"tier {tier}: {period.min_months}-{period.max_months} months is outside "
                    f"Order 36's {low}-{high}"
                )
        codes = [r.sanction for r in self.tier_rules]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"tier_rules: sanction listed twice: {', '.join(repeated)}")
        return self

    def rule(self, sanction: str) -> TierRule | None:
        return next((r for r in self.tier_rules if r.sanction == sanction), None)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CommitmentBody(_Body):
    """The institution's public credit commitment (信用承诺), recorded on its behalf."""

    commitment: Text = Field(
        min_length=10,
        max_length=2000,
        description="that the materials are true, and that it bears the consequences if not",
    )


class RecordCommitment(CommitmentBody):
    actor: Actor


class LiftingBody(_Body):
    note: Text | None = Field(default=None, max_length=2000)


class AcknowledgeLifting(LiftingBody):
    actor: Actor


class RepairConditions(BaseModel):
    """What the grant of a repair is checked against, in the database."""

    case_id: str


class RepairStep(BaseModel):
    """One step of an Order 36 repair to persist, announce and publish."""

    entry_id: str
    step: CreditStepKind
    actor: Actor
    at: AwareDatetime
    reason: str | None = None
    pending: list[str] = Field(default=[], description="departments yet to lift")
    due: AwareDatetime | None = None
    final_due: AwareDatetime | None = None
