"""The inbound topics' commit rules (streams/offsets.py), on faust's own consumer object: no
broker is needed to decide which offset a commit may take, so this is a pure-logic test. The
fault matrix (tests/test_fault_matrix.py) is the same rules against real processes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import faust
import pytest
from faust.types import TP, Message
from faust.types.tuples import ConsumerMessage

from models import topics
from streams import offsets
from streams.transport import App

HEAD = TP(topics.REGISTRY, 0)


@pytest.fixture
def consumer() -> Iterator[Any]:
    app = App("offsets-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    consumer: Any = app.consumer
    consumer.app.topics._acking_topics.add(topics.REGISTRY)
    sought: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    consumer.seek = seek
    consumer.sought = sought
    yield consumer


def message(offset: int, tp: TP = HEAD) -> Message:
    return ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, None, b"k", b"v", None, tp=tp)


class Event:
    def __init__(self, m: Message, consumer: Any) -> None:
        self.message, self._consumer = m, consumer

    def ack(self) -> bool:
        return bool(self.message.ack(self._consumer))


class Stream:
    async def ack(self, event: Event) -> bool:
        return event.ack()


async def finish(consumer: Any, m: Message) -> None:
    m.refcount = 1
    await offsets.done(Stream(), Event(m, consumer))  # type: ignore[arg-type]


def test_faust_alone_commits_past_a_missing_head() -> None:
    """What the fault matrix lost: committed 14 (the next to read), 15 and 16 done."""
    app = faust.App("plain", broker="kafka://127.0.0.1:1", autodiscover=False)
    plain: Any = app.consumer
    plain._committed_offset[HEAD] = 14
    plain._acked[HEAD] = [15, 16]
    assert plain._new_offset(HEAD) == 17  # offset 14 would never be read again


async def test_a_commit_never_passes_a_head_that_was_not_handed_off(consumer: Any) -> None:
    consumer._committed_offset[HEAD] = 14
    for offset in (15, 16):
        await finish(consumer, message(offset))
    assert consumer._new_offset(HEAD) is None
    await _settle()
    assert consumer.sought == [(HEAD, 14)]  # read again from the missing head
    assert consumer._new_offset(HEAD) is None  # awaited, not rewound twice at once
    await finish(consumer, message(14))
    assert consumer._new_offset(HEAD) == 17


async def test_an_acknowledgement_from_faust_itself_does_not_count(consumer: Any) -> None:
    """faust acks a message its stream dropped around a rebalance; the agent never saw it."""
    consumer._committed_offset[HEAD] = 14
    dropped = message(14)
    dropped.refcount = 1
    assert dropped.ack(consumer) is False
    assert consumer._acked[HEAD] == []
    await finish(consumer, message(15))
    assert consumer._new_offset(HEAD) is None


async def test_a_dropped_head_with_nothing_after_it_is_read_again(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What CI lost for six minutes: a complaint sent while the stream worker restarted,
    dropped by the new worker (fetched under the old generation), and no later complaint on
    its partition to show the hole. The drop itself starts the rewind."""
    monkeypatch.setattr(offsets, "DROP_SETTLE_SECONDS", 0.0)
    consumer.assignment = lambda: {HEAD}
    consumer._committed_offset[HEAD] = 533
    dropped = message(533)
    dropped.refcount = 1
    assert dropped.ack(consumer) is False
    await consumer.reread_dropped()
    assert consumer.sought == [(HEAD, 533)]
    await consumer.reread_dropped()
    assert consumer.sought == [(HEAD, 533)]  # once per drop


async def test_a_head_lost_unseen_is_read_again_once_it_stalls(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faust can lose an event around a rebalance without acknowledging it (a fetched batch
    cut short, a delivery cancelled): events wait on the broker behind an unmoved commit."""
    consumer.assignment = lambda: {HEAD}
    consumer.highwater = lambda tp: 534
    consumer._committed_offset[HEAD] = 533
    await consumer.reread_stalled()  # the head is seen for the first time
    assert consumer.sought == []
    monkeypatch.setattr(offsets, "STALL_SECONDS", 0.0)
    await consumer.reread_stalled()
    assert consumer.sought == [(HEAD, 533)]


async def test_a_head_in_flight_or_with_nothing_behind_it_is_not_stalled(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offsets, "STALL_SECONDS", 0.0)
    consumer.assignment = lambda: {HEAD}
    consumer._committed_offset[HEAD] = 14
    consumer.highwater = lambda tp: 14  # all read and done
    await consumer.reread_stalled()
    await consumer.reread_stalled()
    consumer.highwater = lambda tp: 20
    in_flight = message(14)  # retried by its hand-off while Temporal is down
    consumer._unacked_messages.add(in_flight)
    await consumer.reread_stalled()
    await consumer.reread_stalled()
    assert consumer.sought == []


async def test_a_drop_already_handed_off_again_is_left_alone(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offsets, "DROP_SETTLE_SECONDS", 0.0)
    consumer.assignment = lambda: {HEAD}
    consumer._committed_offset[HEAD] = 14
    dropped = message(14)
    dropped.refcount = 1
    dropped.ack(consumer)
    consumer._committed_offset[HEAD] = 16  # read again after the rebalance, done, committed
    await consumer.reread_dropped()
    assert consumer.sought == []


async def test_a_partition_never_committed_holds_its_head_at_the_log_start(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster leg lost offset 0 of a new topic for good: no committed offset to hold the
    head against, so faust committed 2 from offsets 1 done. Nothing is committed until the
    log's start is known; then the missing head is read again."""
    consumer.assignment = lambda: {HEAD}
    asked: list[tuple[TP, ...]] = []

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        asked.append(tps)
        return {tp: 0 for tp in tps}

    consumer.earliest_offsets = earliest_offsets
    assert consumer._committed_offset[HEAD] is None
    await finish(consumer, message(1))
    assert consumer._new_offset(HEAD) is None  # the log's start is not known yet
    await consumer.learn_log_starts()
    await consumer.learn_log_starts()
    assert asked == [(HEAD,)]  # asked once
    assert consumer._new_offset(HEAD) is None
    await _settle()
    assert consumer.sought == [(HEAD, 0)]
    await finish(consumer, message(0))
    assert consumer._new_offset(HEAD) == 2


async def test_a_run_from_the_committed_offset_commits(consumer: Any) -> None:
    consumer._committed_offset[HEAD] = 14
    for offset in (14, 15, 17):
        await finish(consumer, message(offset))
    assert consumer._new_offset(HEAD) == 16
    assert consumer.sought == []


async def test_a_head_that_never_comes_back_is_taken_as_a_gap(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment deleted by retention before it was read: rewound a bounded number of
    times, then committed past (logged as an error), never a partition stuck for good."""
    monkeypatch.setattr(offsets, "REWIND_RETRY_SECONDS", 0.0)
    consumer._committed_offset[HEAD] = 14
    await finish(consumer, message(20))
    for _ in range(offsets.REWIND_ATTEMPTS):
        assert consumer._new_offset(HEAD) is None
    await _settle()
    assert len(consumer.sought) == offsets.REWIND_ATTEMPTS
    consumer._acked[HEAD] = list(range(15, 21))  # faust's gap tree fills 15..19
    assert consumer._new_offset(HEAD) == 21


def test_other_topics_keep_fausts_rule(consumer: Any) -> None:
    changelog = TP("offsets-test-alarm-storms-changelog", 0)
    consumer._committed_offset[changelog] = 14
    consumer._acked[changelog] = [15]
    assert consumer._new_offset(changelog) == 16


async def _settle() -> None:
    import asyncio

    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_jump_in_the_read_offset_is_not_taken_as_a_gap_in_the_log(consumer: Any) -> None:
    """The cluster leg lost a bad registry event so (registry-3, offset 39, never
    dead-lettered; commits 37, 39, 41): after a rebalance the worker read 38, then 40. faust
    takes such a jump for offsets with nothing to read (transaction markers) and fills them
    in as acknowledged (`Consumer._add_gap`), so the commit passed 39. The inbound topics
    have no such offsets: a jump there is an event lost on the way, read again."""
    consumer._committed_offset[HEAD] = 37
    for offset in (37, 38):
        await finish(consumer, message(offset))
    await consumer._add_gap(HEAD, 39, 40)  # 40 read right after 38
    await finish(consumer, message(40))
    assert consumer._new_offset(HEAD) == 39
    consumer._committed_offset[HEAD] = 39
    assert consumer._new_offset(HEAD) is None  # 39 is not done
    await _settle()
    assert consumer.sought == [(HEAD, 39)]
    await finish(consumer, message(39))
    assert consumer._new_offset(HEAD) == 41
