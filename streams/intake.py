"""The complaints agent: validate, hand over to the case workflow, or dead-letter."""

from __future__ import annotations

from functools import cache
from typing import cast

from faust import Stream
from faust.types import StreamT
from temporalio.client import Client

from infra.intake import parse_complaint
from infra.vault import Vault, load_vault
from models.complaints import ComplaintReceived
from streams import topics
from streams.app import app, settings
from streams.handoff import hand_off
from streams.ordered_acks import OrderedAcker
from workflows.cases.starter import submit_complaint


@cache
def vault() -> Vault:
    return load_vault(settings)


def parse(raw: bytes | None) -> ComplaintReceived:
    """Events of the old shape carry the caller's contact in clear: sealed here, before the
    workflow (and its history) sees them."""
    return vault().sealed_complaint(parse_complaint(raw))


def redact(raw: bytes) -> bytes:
    return vault().redact_contact(raw)


async def submit(client: Client, complaint: ComplaintReceived) -> None:
    await submit_complaint(client, complaint, settings.temporal_task_queue)


@app.agent(topics.complaints)
async def complaints_intake(stream: StreamT[bytes]) -> None:
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, settings.intake_max_in_flight)
    try:
        async for event in manual.events():
            await acker.submit(event, hand_off(event, parse, submit, redact))
    finally:
        await acker.close()
