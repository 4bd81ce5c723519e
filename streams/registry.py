"""The registry agent: institutions and staff events. Identity numbers are hashed while
parsing; a rejected event is dead-lettered with its numbers masked."""

from __future__ import annotations

from functools import cache
from typing import cast

from faust import Stream
from faust.types import StreamT
from temporalio.client import Client

from infra.identity import IdentityHasher, load_hasher, redact
from infra.intake import parse_registry
from models.registry import RegistryCommand
from streams import topics
from streams.app import app, settings
from streams.handoff import hand_off
from streams.ordered_acks import OrderedAcker
from workflows.registry.starter import submit_registry_event


@cache
def hasher() -> IdentityHasher:
    return load_hasher(settings)


def parse(raw: bytes | None) -> RegistryCommand:
    return parse_registry(raw, hasher())


async def submit(client: Client, command: RegistryCommand) -> None:
    await submit_registry_event(client, command, settings.temporal_task_queue)


@app.agent(topics.registry)
async def registry_intake(stream: StreamT[bytes]) -> None:
    # Events of one institution share a key, hence a partition, and are handed over in order
    # of their offsets; a hire and a manager change of one person must not overtake.
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, 1)
    try:
        async for event in manual.events():
            await acker.submit(event, hand_off(event, parse, submit, redact))
    finally:
        await acker.close()
