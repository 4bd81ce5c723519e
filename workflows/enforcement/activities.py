"""Every activity of the enforcement family, for the workers to register in one line:
bans (`bans/`), decisions and re-inspections (`decisions/`), joint punishment and credit
repair (`credit/`). The workflows call each family's class directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.credit_platform import CreditPlatform
from infra.db import SessionFactory
from models.credit import EnforcementPolicy
from workflows.enforcement.bans.activities import BanActivities
from workflows.enforcement.credit.activities import CreditActivities
from workflows.enforcement.credit.repair_activities import CreditRepairActivities
from workflows.enforcement.decisions.activities import DecisionActivities


class EnforcementActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        policy: EnforcementPolicy,
        platform: CreditPlatform | None = None,
    ) -> None:
        self.bans = BanActivities(session_factory, policy)
        self.decisions = DecisionActivities(session_factory)
        self.credit = CreditActivities(session_factory, policy, platform)
        self.repair = CreditRepairActivities(session_factory, policy)

    def all(self) -> list[Callable[..., Any]]:
        return [
            *self.bans.all(),
            *self.decisions.all(),
            *self.credit.all(),
            *self.repair.all(),
        ]
