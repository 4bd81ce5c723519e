"""The steps of a joint punishment and of its Order 36 credit repair, and the stages a credit
plan is asked for. Their values are what the audit trail (`credit.<step>`), the idempotency
keys and the recorded workflow histories carry: never rename one."""

from __future__ import annotations

from enum import StrEnum


class CreditStage(StrEnum):
    """What a credit plan is asked for (`PlanCredit.stage`)."""

    NOTICE = "notice"  # the objection window of the prior notice
    ENTRY = "entry"  # publication: acknowledgments and the publicity period
    LIFTING = "lifting"  # Order 36: each department lifts its measures by a deadline


class CreditStepKind(StrEnum):
    """One step of a joint punishment; what each does is the table in
    `workflows/enforcement/credit/steps.py`."""

    NOTICED = "noticed"
    OBJECTED = "objected"
    WITHDRAWN = "withdrawn"
    OBJECTION_REJECTED = "objection-rejected"
    PUBLISHED = "published"
    ACKNOWLEDGED = "acknowledged"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    REMOVED = "removed"
    REPAIR_REQUESTED = "repair-requested"
    REPAIR_REVIEWED = "repair-reviewed"
    # Order 36 (recorded by `record_repair_step`)
    NOT_PUBLISHED = "not-published"
    COMMITTED = "committed"
    LIFTING = "lifting"
    LIFTING_ACKNOWLEDGED = "lifting-acknowledged"
    LIFTING_REMINDED = "lifting-reminded"
    LIFTING_ESCALATED = "lifting-escalated"
    LIFTED = "lifted"
