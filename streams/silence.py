"""Which devices have gone silent: the rule of the camera agent's periodic check, pure.

A device's silence is judged only by the worker that reads its partition, and only for as
long as that worker has been caught up on it. Two ways the cluster leg (two stream workers,
three brokers) raised false "video system not working" findings, each opening a case:

- faust's memory store keeps the *standby* copy of the other worker's partitions in the same
  dict as its own, so `last_heard.items()` lists devices this worker does not read. When the
  other worker died, their keepalives went unread until the group moved its partitions
  (the session timeout, ~25 s), and the survivor's standby copy showed three or four devices
  "silent for 30-41 s" before it took them over. Only devices on partitions assigned to this
  worker are judged now.
- a worker that takes a partition over, or one whose partition has events on the broker it
  has not read (a broker left and leadership moved; a backlog after a rebalance), holds
  `last_heard` as the changelog left it while the keepalives sent meanwhile are still to
  read. Silence on such a partition counts from when it was last seen caught up.

A device really silent is still raised one timeout after the worker caught up with its
partition: a delay only while the partition itself is in trouble.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

Partition = Hashable


# A partition not fetched for this long may hold keepalives this worker cannot see: its
# leader is gone (a broker left; leadership moves within the controller's broker session
# timeout, 9 s by default) or its flow is paused. A caught-up partition is fetched every
# `stream_fetch_max_wait_ms` (0.1 s by default) at the latest.
STALE_FETCH_SECONDS = 5.0


def behind(
    highwater: int | None,
    fetched_at: float | None,
    routed_next: int | None,
    committed: int | None,
    now: float,
) -> bool:
    """Whether the broker may hold events of a partition this worker has not looked at yet.

    `highwater`: the broker's next offset as of the last successful fetch, at `fetched_at`
    (None: not fetched yet); `routed_next`: the offset after the last event this worker
    routed (updates the tables); `committed`: the group's committed offset (another worker
    may have gone further).
    """
    if highwater is None or fetched_at is None or now - fetched_at > STALE_FETCH_SECONDS:
        return True
    return highwater > max(routed_next or 0, committed or 0)


@dataclass
class Silence:
    """Since when this worker has read each of its partitions without falling behind."""

    since: dict[Partition, float] = field(default_factory=dict)

    def watch(self, partitions: Mapping[Partition, bool], now: float) -> None:
        """`partitions`: the ones assigned to this worker, each with whether it is behind."""
        for partition in set(self.since) - set(partitions):
            del self.since[partition]  # revoked: the next owner judges it
        for partition, is_behind in partitions.items():
            if is_behind or partition not in self.since:
                self.since[partition] = now

    def silent(
        self,
        heard: Iterable[tuple[str, float]],
        partition_of: Callable[[str], Partition],
        timeout_of: Callable[[str], float],
        now: float,
    ) -> list[tuple[str, float]]:
        """The devices (with when they were last heard) silent for their timeout or longer."""
        found = []
        for device, last in heard:
            if not last:
                continue  # unregistered: not watched until it registers again
            watched_since = self.since.get(partition_of(device))
            if watched_since is None:
                continue  # a standby copy: not read here
            if now - max(last, watched_since) >= timeout_of(device):
                found.append((device, last))
        return found
