"""The inspections agent: each report is recorded by its workflow, and its serious findings
handed to their cases."""

from __future__ import annotations

from typing import cast

from faust import Stream
from faust.types import StreamT
from temporalio.client import Client

from infra.intake import parse_inspection
from models.inspections import InspectionReport
from streams import topics
from streams.app import app, settings
from streams.handoff import hand_off
from streams.ordered_acks import OrderedAcker
from workflows.inspections.starter import submit_inspection


async def submit(client: Client, report: InspectionReport) -> None:
    await submit_inspection(client, report, settings.temporal_task_queue)


@app.agent(topics.inspections)
async def inspections_intake(stream: StreamT[bytes]) -> None:
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, settings.intake_max_in_flight)
    try:
        async for event in manual.events():
            await acker.submit(event, hand_off(event, parse_inspection, submit))
    finally:
        await acker.close()
