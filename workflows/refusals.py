"""How every workflow refuses an action: an ApplicationError the API turns into 403/409."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from models.case_actions import Refusal


def refuse(refusal: Refusal | None) -> None:
    """Validators and handlers reject an action by raising; the API shows `message`."""
    if refusal is not None:
        raise ApplicationError(
            refusal.message,
            refusal.code,
            refusal.status,
            type="ActionRefused",
            non_retryable=True,
        )
