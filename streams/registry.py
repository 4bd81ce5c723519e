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
from streams.offsets import done
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
    # One at a time, acknowledged after each hand-off: an institution's events (one key, so
    # one partition) are signalled to its workflow in topic order, which applies them in
    # that order (a hire before that person's manager change). The hand-off returns once
    # the signal is in: a failing event is parked there, never waited on here.
    manual = cast(Stream[bytes], stream).noack()
    async for event in manual.events():
        await hand_off(event, parse, submit, redact)
        await done(manual, event)
