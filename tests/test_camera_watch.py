"""Silence is judged only on partitions this worker reads, and counted from when it was last
caught up on them (`streams.silence`, the rule of the camera agent's `check_devices`). Pure
logic; the cluster leg (`tests/test_cluster_faults.py`) runs it with two stream workers."""

from __future__ import annotations

from streams.silence import Silence, behind

TIMEOUT = 30.0
PARTITION = {"cam-a": 0, "cam-b": 1, "cam-c": 2}


def silent(watch: Silence, heard: dict[str, float], now: float) -> list[str]:
    found = watch.silent(heard.items(), PARTITION.__getitem__, lambda _d: TIMEOUT, now)
    return [device for device, _ in found]


def test_a_standby_copy_of_the_other_workers_devices_is_not_judged() -> None:
    """The cluster leg: when the other stream worker died, its devices' keepalives went
    unread until the group moved its partitions, and the survivor's standby copy of them
    (faust's memory store keeps both in one dict) raised three devices "silent for 30 s"."""
    watch = Silence()
    watch.watch({0: False, 1: False}, now=1_000.0)  # this worker reads partitions 0 and 1
    heard = {"cam-a": 1_000.0, "cam-b": 1_000.0, "cam-c": 1_000.0}
    assert silent(watch, heard, now=1_031.0) == ["cam-a", "cam-b"]  # not cam-c, on 2


def test_a_takeover_does_not_make_every_device_silent_at_once() -> None:
    """Four devices "silent for 40 s" the moment a stream worker took partition 2 over."""
    watch = Silence()
    watch.watch({0: False}, now=1_000.0)
    watch.watch({0: False, 2: False}, now=1_002.0)  # taken over
    heard = {"cam-c": 1_000.0 - 40}  # as the changelog left it
    assert silent(watch, heard, now=1_002.0) == []  # its keepalives are still to read
    assert silent(watch, heard, now=1_002.0 + TIMEOUT) == ["cam-c"]  # really silent


def test_a_partition_behind_the_broker_counts_from_when_it_caught_up() -> None:
    """A broker left: keepalives wait on the broker while the worker has not read them."""
    watch = Silence()
    watch.watch({0: False}, now=1_000.0)
    heard = {"cam-a": 1_000.0}
    watch.watch({0: True}, now=1_020.0)  # leadership moved: a backlog to read
    watch.watch({0: True}, now=1_040.0)
    assert silent(watch, heard, now=1_040.0) == []
    watch.watch({0: False}, now=1_045.0)  # caught up; nothing more from cam-a
    assert silent(watch, heard, now=1_069.0) == []
    assert silent(watch, heard, now=1_070.0) == ["cam-a"]


def test_an_unchanged_assignment_keeps_counting() -> None:
    watch = Silence()
    watch.watch({0: False}, now=500.0)
    watch.watch({0: False}, now=900.0)
    assert silent(watch, {"cam-a": 600.0}, now=900.0) == ["cam-a"]  # 300 s
    assert silent(watch, {"cam-a": 0.0}, now=900.0) == []  # unregistered: not watched


def test_a_revoked_partition_is_no_longer_judged() -> None:
    watch = Silence()
    watch.watch({0: False, 1: False}, now=0.0)
    watch.watch({0: False}, now=10.0)
    assert silent(watch, {"cam-b": 1.0}, now=100.0) == []


def test_behind_compares_the_broker_with_what_was_read_or_committed() -> None:
    now = 100.0
    assert behind(None, None, 10, 10, now)  # not fetched yet
    assert behind(12, now, 10, 10, now)
    assert not behind(10, now, 10, 8, now)
    assert not behind(12, now, 8, 12, now)  # another worker went further: committed
    assert not behind(0, now, None, None, now)  # an empty partition
    assert behind(3, now, None, None, now)


def test_a_partition_not_fetched_lately_is_behind() -> None:
    """Its leader gone (a broker SIGKILLed): the last fetch said caught up, but keepalives
    sent since wait on the broker until leadership moves."""
    assert not behind(10, 96.0, 10, 10, now=100.0)
    assert behind(10, 90.0, 10, 10, now=100.0)
