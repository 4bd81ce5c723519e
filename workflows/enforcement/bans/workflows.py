"""`BanCorrectionWorkflow`: an authorised correction of a ban, run once per request (the id
is the request's). The bans themselves are issued by `EnforcementWorkflow` when the case is
found substantiated (`workflows/enforcement/decisions/workflows.py`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.enforcement import CorrectBan
    from workflows.enforcement.bans.activities import BanActivities
    from workflows.local import local


@workflow.defn
class BanCorrectionWorkflow:
    """An authorised correction of a ban, run once per request (the id is the request's)."""

    @workflow.run
    async def run(self, params: CorrectBan) -> bool:
        params.at = workflow.now()
        return await local(BanActivities.correct_ban, params)
