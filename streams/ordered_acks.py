"""Concurrent hand-offs, acknowledged strictly in offset order.

The agent runs with acks off, starts each hand-off as its own task, and a single acker awaits
them in arrival order and acknowledges each (`streams.offsets.done`) only after it and every
earlier one finished. So a partition's done offsets are always a run from its committed
offset, and a hole at the head means an event faust dropped, which `streams/offsets.py` reads
again. A crash loses nothing: unacknowledged messages are read again, and every hand-off is
idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from faust.types import EventT, StreamT

from streams.offsets import done


class OrderedAcker:
    def __init__(self, stream: StreamT[Any], max_in_flight: int) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[tuple[EventT[Any], asyncio.Task[None]]] = asyncio.Queue(
            max_in_flight
        )
        self._task: asyncio.Task[None] | None = None

    async def submit(self, event: EventT[Any], handoff: Awaitable[None]) -> None:
        """Start `handoff` now; waits while `max_in_flight` hand-offs are unfinished."""
        if self._task is None:
            self._task = asyncio.create_task(self._ack_in_order())
        elif self._task.done():
            self._task.result()  # surface the acker's failure to the agent, which crashes
        task = asyncio.ensure_future(handoff)
        await self._queue.put((event, task))

    async def _ack_in_order(self) -> None:
        while True:
            event, task = await self._queue.get()
            await task  # a hand-off retries until it succeeds; an error here is a bug
            await done(self._stream, event)
            self._queue.task_done()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
