"""The complaints agent: validate, hand over to the case workflow, or dead-letter."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from faust import Stream
from faust.types import EventT, StreamT
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from infra.intake import InvalidEvent, parse_complaint
from infra.temporal import connect
from models.notifications import DeadLetter, DeadLetterSource
from streams import topics
from streams.app import app, settings
from streams.ordered_acks import OrderedAcker
from workflows.cases.starter import submit_complaint

log = logging.getLogger(__name__)

_client: Client | None = None
_PERMANENT = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION}


async def temporal() -> Client:
    global _client
    if _client is None:
        _client = await connect(settings)
    return _client


async def dead_letter(raw: bytes | None, reason: str, event: EventT[Any]) -> None:
    message = event.message
    letter = DeadLetter.of(
        raw or b"",
        reason,
        DeadLetterSource(topic=message.topic, partition=message.partition, offset=message.offset),
    )
    sent = await topics.dead_letter.send(key=message.key, value=letter.model_dump_json().encode())
    await sent  # delivered before the original is acknowledged
    log.warning(
        "dead-lettered %s:%s:%s: %s", message.topic, message.partition, message.offset, reason
    )


async def hand_off(event: EventT[Any]) -> None:
    """Never raises but on cancellation: retries while Temporal is unreachable."""
    raw: bytes | None = event.value
    try:
        complaint = parse_complaint(raw)
    except InvalidEvent as exc:
        await dead_letter(raw, exc.reason, event)
        return
    delay = 0.2
    while True:
        try:
            case_id = await submit_complaint(
                await temporal(), complaint, settings.temporal_task_queue
            )
            log.debug("complaint %s handed to case %s", complaint.event_id, case_id)
            return
        except WorkflowAlreadyStartedError:
            return  # the case exists and is closed: this is a replay
        except RPCError as exc:
            if exc.status in _PERMANENT:
                await dead_letter(raw, f"rejected by Temporal: {exc.message}", event)
                return
            log.warning("Temporal unavailable (%s); retrying in %.1fs", exc.message, delay)
        except (ConnectionError, RuntimeError) as exc:
            log.warning("cannot reach Temporal (%r); retrying in %.1fs", exc, delay)
        except Exception as exc:  # a bug must not stall the partition: park the message
            log.exception("hand-off of %s failed", complaint.event_id)
            await dead_letter(raw, f"hand-off failed: {exc!r}", event)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


@app.agent(topics.complaints)
async def complaints_intake(stream: StreamT[bytes]) -> None:
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, settings.intake_max_in_flight)
    try:
        async for event in manual.events():
            await acker.submit(event, hand_off(event))
    finally:
        await acker.close()
