"""Silence is counted from when this worker began watching a device's partition: a worker
that takes over partitions holds their `last_heard` as the changelog left it, while the
keepalives sent meanwhile still wait on them. Pure logic (the rule of `check_devices`)."""

from __future__ import annotations

from streams.camera import Watch, silent_for

TIMEOUT = 30.0


def test_a_takeover_does_not_make_every_device_silent_at_once() -> None:
    """The cluster leg: four devices "silent for 40 s" the moment a stream worker took over."""
    watch = Watch()
    watch.seen(frozenset({"alarms-0", "alarms-1"}), now=1_000.0)
    heard = 1_000.0 - 40  # the last keepalive in the changelog, read by the dead worker
    since = watch.seen(frozenset({"alarms-0", "alarms-1", "alarms-2"}), now=1_002.0)
    assert silent_for(heard, since, 1_002.0) < TIMEOUT  # its keepalives are still to read
    assert silent_for(heard, since, 1_002.0 + TIMEOUT) >= TIMEOUT  # really silent: raised


def test_an_unchanged_assignment_keeps_counting() -> None:
    watch = Watch()
    first = watch.seen(frozenset({"alarms-0"}), now=500.0)
    assert watch.seen(frozenset({"alarms-0"}), now=900.0) == first
    assert silent_for(heard=600.0, watched_since=first, now=900.0) == 300.0
