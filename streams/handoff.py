"""Handing an inbound event to Temporal: parse, start or signal its workflow, retry while
Temporal is unreachable, dead-letter what can never be processed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka.errors import MessageSizeTooLargeError
from faust.types import EventT
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from infra.claim_check import ClaimCheckStore
from infra.intake import InvalidEvent
from infra.metrics import DEAD_LETTERED, EVENTS_IN, HANDED_OFF, HANDOFF_SECONDS
from infra.temporal import connect
from models import topics
from models.notifications import DeadLetter, DeadLetterSource
from streams.app import app, settings

log = logging.getLogger(__name__)
T = TypeVar("T")

_client: Client | None = None
_PERMANENT = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION}


async def temporal() -> Client:
    global _client
    if _client is None:
        _client = await connect(settings)
    return _client


claims = ClaimCheckStore(settings.data_dir, settings.dead_letter_max_bytes)


async def dead_letter(raw: bytes | None, reason: str, event: EventT[Any]) -> None:
    """Sent under the original message's key, and awaited here: a failing send surfaces on
    the event that caused it (faust's buffered `topic.send` raised it on the next one). A
    letter too large for the broker keeps its original in the claim-check store."""
    message = event.message
    letter = DeadLetter.of(
        raw or b"",
        reason,
        DeadLetterSource(topic=message.topic, partition=message.partition, offset=message.offset),
    )
    value = await asyncio.to_thread(claims.seal, letter)
    key = message.key if isinstance(message.key, bytes) else None
    # Delivered before the original is acknowledged; retried while the broker is away.
    delay = 0.2
    while True:
        try:
            await app.producer.send_and_wait(topics.DEAD_LETTER, key, value, None, None, None)
            break
        except MessageSizeTooLargeError:
            value = await asyncio.to_thread(claims.seal, letter, True)  # a smaller broker
        except Exception as exc:
            log.warning("dead letter not delivered (%r); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    DEAD_LETTERED.labels(message.topic).inc()
    log.warning(
        "dead-lettered %s:%s:%s: %s", message.topic, message.partition, message.offset, reason
    )


async def hand_off(
    event: EventT[Any],
    parse: Callable[[bytes | None], T],
    submit: Callable[[Client, T], Awaitable[object]],
    redact: Callable[[bytes], bytes] | None = None,
) -> None:
    """Never raises but on cancellation. `redact` masks personal data in what is
    dead-lettered."""
    raw: bytes | None = event.value
    topic = event.message.topic
    EVENTS_IN.labels(topic).inc()
    began = time.perf_counter()
    try:
        kept = redact(raw) if redact and raw else raw
    except Exception:  # never the clear bytes when their masking failed; never a stuck agent
        log.exception("masking %s:%s failed", topic, event.message.offset)
        kept = b""
    try:
        parsed = parse(raw)
    except InvalidEvent as exc:
        await dead_letter(kept, exc.reason, event)
        return
    delay = 0.2
    while True:
        try:
            await submit(await temporal(), parsed)
            HANDED_OFF.labels(topic).inc()
            HANDOFF_SECONDS.labels(topic).observe(time.perf_counter() - began)
            return
        except WorkflowAlreadyStartedError:
            return  # its workflow ran and closed: this is a replay
        except RPCError as exc:
            if exc.status in _PERMANENT:
                await dead_letter(kept, f"rejected by Temporal: {exc.message}", event)
                return
            log.warning("Temporal unavailable (%s); retrying in %.1fs", exc.message, delay)
        except (ConnectionError, RuntimeError) as exc:
            log.warning("cannot reach Temporal (%r); retrying in %.1fs", exc, delay)
        except Exception as exc:  # a bug must not stall the partition: park the message
            log.exception("hand-off of %s:%s failed", event.message.topic, event.message.offset)
            await dead_letter(kept, f"hand-off failed: {exc!r}", event)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)
