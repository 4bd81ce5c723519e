"""Every activity of the enforcement family, for the workers to register in one line:
bans (`bans/`), decisions and re-inspections (`decisions/`), joint punishment and credit
repair (`credit/`). The workflows call each family's class directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.credit_platform import CreditPlatform
from infra.db import SessionFactory
from models.credit import EnforcementPolicy
from workflows.enforcement.bans.activities import BanActivities
from workflows.enforcement.credit.activities import CreditActivities
from workflows.enforcement.credit.repair_activities import CreditRepairActivities
from workflows.enforcement.decisions.activities import DecisionActivities


@dataclass(frozen=True)
class EnforcementActivities:
    sessions: SessionFactory
    policy: EnforcementPolicy
    platform: CreditPlatform | None = None  # a real credit platform, when one is configured

    def all(self) -> list[Callable[..., Any]]:
        families = (
            BanActivities(self.sessions, self.policy),
            DecisionActivities(self.sessions),
            CreditActivities(self.sessions, self.policy, self.platform),
            CreditRepairActivities(self.sessions, self.policy),
        )
        return [activity for family in families for activity in family.all()]
