"""Committed offsets that never pass an event whose hand-off did not finish.

Two faust behaviours lost inbound events in the fault matrix (Apache Kafka, each process
SIGKILLed in turn): in one of two runs the first registry event of two partitions after the
stream worker restarted was neither handed off nor dead-lettered (the broker's log showed
both at exactly the partition's committed offset, and the next commit past them).

1. faust's stream acknowledges a message it drops around a rebalance (its fetch generation
   is not the consumer's, or the flow is paused): `faust/streams.py` acks every
   `skipped_value` "otherwise the lag would increase". The agent never saw it.
2. faust's commit accepts one unacknowledged message at the head of a partition:
   `Consumer._new_offset` refuses a run only when it starts more than one past the
   committed offset, though Kafka's committed offset is the next one to read
   (faust-streaming issue 606).

So for the inbound topics: an acknowledgement counts only when an agent says its hand-off
finished (`done`); a commit moves only over a run that begins at the committed offset; and a
partition whose head is missing while later events are done (our agents acknowledge in
arrival order, so the head never reached them) is rewound to it, so that it is read again.

A dropped head with nothing after it has no later event to give it away: a complaint sent
while the stream worker restarted was fetched by the new worker under the old generation,
dropped, and read only when the next complaint on its partition arrived six minutes later
(CI on Apache Kafka; the broker log put it at the committed offset). So faust's own
acknowledgement of an event that is not done is remembered as a drop, and a timer rewinds
each partition whose drop is still at or past its committed offset once the flow is running.
faust also loses events with no acknowledgement at all around a rebalance (a fetched batch cut
short when the generation changes, a delivery cancelled when the flow stops), so the same
timer also rewinds a stalled head: a partition with events past its committed offset on the
broker, none of them in the agent's hands, and the commit not moved for `STALL_SECONDS`.

A partition never committed (a new topic, a new group) has no committed offset to hold the
head against; faust then commits from the first offset done, so on a three-broker cluster a
dropped offset 0 was passed over for good (committed 2). Its head is the log's first offset,
asked of the broker once; until it is known nothing of the partition is committed.

faust also takes a jump in the read offset (38 read, then 40) for offsets with nothing to read
and fills them in as acknowledged (`Consumer._add_gap`, meant for transaction markers): on
the cluster leg a bad registry event was passed over so, never dead-lettered. The inbound
topics have no such offsets; a jump there leaves the head missing, and it is read again.

Every hand-off is idempotent, so what a rewind reads twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from faust.transport.drivers import aiokafka as driver
from faust.types import TP, EventT, Message, StreamT
from mode import Service

from infra.metrics import OFFSET_REWINDS
from models import topics

log = logging.getLogger(__name__)

INBOUND = frozenset(topics.INBOUND)
# A rewound head that has not come back by then is rewound again: a fetch already under way
# when the seek landed can move the read offset past it once more (faust drops what is
# below it). After the last attempt the gap is taken as real (a log segment deleted by
# retention before it was read), logged as an error, and faust's own rule applies.
REWIND_RETRY_SECONDS = 10.0
REWIND_ATTEMPTS = 6
# How often dropped heads are looked for, and how long a drop is left to the rebalance that
# caused it (its seek to the committed offset reads it again if it lands after the drop).
DROP_CHECK_SECONDS = 2.0
DROP_SETTLE_SECONDS = 2.0
# A head this long unmoved, with nothing of its partition in flight, was lost unseen. Far above
# a hand-off's time (p99 well under a second; during a Temporal outage the head is in flight).
STALL_SECONDS = 30.0

_done: weakref.WeakSet[Message] = weakref.WeakSet()


async def done(stream: StreamT[Any], event: EventT[Any]) -> None:
    """Acknowledge an event whose hand-off finished: the only acknowledgement that counts."""
    _done.add(event.message)
    await stream.ack(event)


@dataclass
class _Rewind:
    offset: int
    at: float
    attempts: int


class HandedOffConsumer(driver.Consumer):
    """faust's aiokafka consumer with the two rules above for the inbound topics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rewinds: dict[TP, _Rewind] = {}
        self._rewinding: set[asyncio.Task[None]] = set()
        self._dropped: dict[TP, tuple[int, float]] = {}  # lowest dropped offset, when
        self._heads: dict[TP, tuple[int | None, float]] = {}  # committed offset, since when
        self._log_start: dict[TP, int] = {}  # the head of a partition never committed

    def ack(self, message: Message) -> bool:
        if message.topic in INBOUND and message not in _done:
            # Dropped by the stream: not done, so not committable. Forgotten as unacked too,
            # or a rebalance would wait for it (faust's wait_empty) until its timeout.
            self._unacked_messages.discard(message)
            tp, offset = message.tp, message.offset
            earlier = self._dropped.get(tp)
            if earlier is None or offset < earlier[0]:
                self._dropped[tp] = (offset, time.monotonic())
            return False
        return bool(super().ack(message))

    @Service.timer(DROP_CHECK_SECONDS)
    async def _reread_dropped_timer(self) -> None:
        await self.learn_log_starts()
        await self.reread_dropped()
        await self.reread_stalled()

    def head(self, tp: TP) -> int | None:
        """The first offset not yet done: the committed one, or the log's first offset."""
        committed: int | None = self._committed_offset[tp]
        return committed if committed is not None else self._log_start.get(tp)

    async def learn_log_starts(self) -> None:
        """Ask the broker where the never-committed partitions' logs begin."""
        assigned = self.assignment()
        for tp in set(self._log_start) - assigned:
            del self._log_start[tp]  # revoked: retention may move its start meanwhile
        unknown = [
            tp
            for tp in assigned
            if tp.topic in INBOUND
            and self._committed_offset[tp] is None
            and tp not in self._log_start
        ]
        if unknown:
            try:
                found = await self.earliest_offsets(*unknown)
            except Exception as exc:  # the broker busy or gone: the next round asks again
                log.warning("earliest offsets of %s unknown: %r", unknown, exc)
                return
            self._log_start.update({tp: o for tp, o in found.items() if o is not None})

    async def reread_dropped(self) -> None:
        """Rewind each partition whose dropped event was not handed off since."""
        if not self._dropped or not self.flow_active:
            return
        assigned, now = self.assignment(), time.monotonic()
        for tp, (offset, at) in list(self._dropped.items()):
            committed = self.head(tp)
            if tp not in assigned or (committed is not None and offset < committed):
                del self._dropped[tp]  # its next owner reads from the commit; or it was done
            elif now - at >= DROP_SETTLE_SECONDS:
                del self._dropped[tp]
                head = offset if committed is None else committed
                log.warning(
                    "%s:%s: offset %s was dropped before its hand-off; reading from %s again",
                    tp.topic,
                    tp.partition,
                    offset,
                    head,
                )
                OFFSET_REWINDS.labels(tp.topic).inc()
                await self._rewind(tp, head)

    async def reread_stalled(self) -> None:
        """Rewind each partition whose head has not moved while events wait behind it."""
        if not self.flow_active:
            return
        now = time.monotonic()
        in_flight = {m.tp for m in list(self._unacked_messages)}
        assigned = {tp for tp in self.assignment() if tp.topic in INBOUND}
        for tp in set(self._heads) - assigned:
            del self._heads[tp]
        for tp in assigned:
            committed = self.head(tp)
            head, since = self._heads.get(tp, (None, now))
            if committed != head or tp in in_flight or committed in self._acked[tp]:
                self._heads[tp] = (committed, now)  # moved, or being handed off
                continue
            highwater = self.highwater(tp)
            if committed is None or highwater is None or highwater <= committed:
                self._heads[tp] = (committed, now)  # nothing waits behind it
                continue
            if now - since >= STALL_SECONDS:
                self._heads[tp] = (committed, now)
                log.warning(
                    "%s:%s: offset %s not handed off for %.0fs with %s events behind it; "
                    "reading from it again",
                    tp.topic,
                    tp.partition,
                    committed,
                    now - since,
                    highwater - committed,
                )
                OFFSET_REWINDS.labels(tp.topic).inc()
                await self._rewind(tp, committed)
            else:
                self._heads[tp] = (head, since)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """faust takes a jump in the read offset for offsets with nothing to read (a
        transaction's markers) and later fills them in as acknowledged. The inbound topics
        are written without transactions and never compacted: there, a jump is events lost
        on the way (the cluster leg lost one so), left out of the commit and read again."""
        if tp.topic not in INBOUND:
            await super()._add_gap(tp, offset_from, offset_to)
            return
        # `offset_from - 1` is the read offset, often stale: a partition held before a
        # rebalance and given back, read again from the commit. Only what is past the head
        # was skipped.
        committed = self.head(tp)
        skipped = max(offset_from, committed if committed is not None else offset_from)
        if skipped < offset_to:
            log.warning(
                "%s:%s: read %s with %s..%s not read; those are read again",
                tp.topic,
                tp.partition,
                offset_to,
                skipped,
                offset_to - 1,
            )

    def _new_offset(self, tp: TP) -> int | None:
        if tp.topic in INBOUND:
            acked = self._acked[tp]
            committed = self.head(tp)
            if acked and committed is None:
                return None  # never committed, and where its log begins is not known yet
            if acked and committed is not None and min(acked) > committed:
                if self._missing_head(tp, committed, min(acked)):
                    return None
        result: int | None = super()._new_offset(tp)
        return result

    def _missing_head(self, tp: TP, committed: int, first_done: int) -> bool:
        """True while the head is awaited (rewound, or to be); False once given up on."""
        rewinds = self._rewinds
        now = time.monotonic()
        rewind = rewinds.get(tp)
        if rewind is None or rewind.offset != committed:
            rewind = rewinds[tp] = _Rewind(committed, now - REWIND_RETRY_SECONDS, 0)
        if now - rewind.at < REWIND_RETRY_SECONDS:
            return True
        if rewind.attempts >= REWIND_ATTEMPTS:
            log.error(
                "%s:%s: offsets %s..%s never arrived after %s rewinds; taken as a gap in the log",
                tp.topic,
                tp.partition,
                committed,
                first_done - 1,
                rewind.attempts,
            )
            del rewinds[tp]
            self._committed_offset[tp] = first_done - 1  # faust's rule then commits the run
            return False
        rewind.at, rewind.attempts = now, rewind.attempts + 1
        log.warning(
            "%s:%s: offset %s was dropped before its hand-off (offset %s is done); "
            "reading from it again (attempt %s)",
            tp.topic,
            tp.partition,
            committed,
            first_done,
            rewind.attempts,
        )
        OFFSET_REWINDS.labels(tp.topic).inc()
        task = asyncio.ensure_future(self._rewind(tp, committed))  # called in the commit
        self._rewinding.add(task)
        task.add_done_callback(self._rewinding.discard)
        return True

    async def _rewind(self, tp: TP, offset: int) -> None:
        try:
            await self.seek(tp, offset)
        except Exception as exc:  # revoked meanwhile: its next owner reads from the commit
            log.warning("rewinding %s:%s to %s failed: %r", tp.topic, tp.partition, offset, exc)
