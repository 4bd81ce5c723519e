"""Supervision of the stack's children: restart what dies, give up only on a crash loop.

A child that exits is restarted after a backoff that doubles with its recent restarts
(`TUOYU_RESTART_BACKOFF` up to `TUOYU_RESTART_BACKOFF_MAX`); the other children keep running
meanwhile (a worker's death never touches the broker, Temporal or the database). More than
`TUOYU_RESTART_LIMIT` restarts of one child within `TUOYU_RESTART_WINDOW` seconds is a
crash loop: `CrashLoop` is raised and the caller stops everything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infra.process import ManagedProcess, ProcessFailed
from infra.settings import Settings

log = logging.getLogger("tuoyu.supervisor")

Starter = Callable[[], ManagedProcess]


class CrashLoop(RuntimeError):
    def __init__(self, name: str, restarts: int, window: float, tail: str) -> None:
        super().__init__(
            f"{name} died {restarts} times within {window:.0f}s (a crash loop); "
            f"its last output:\n{tail}"
        )
        self.name = name


@dataclass
class ChildHistory:
    restarts: int = 0
    last_exit: int | None = None
    last_exit_at: float | None = None  # time.time()
    deaths: deque[float] = field(default_factory=deque)  # monotonic, within the window
    restart_due: float | None = None  # monotonic; set while waiting out the backoff

    def as_json(self) -> dict[str, object]:
        return {
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "restarting": self.restart_due is not None,
        }


class Supervisor:
    """Watches children by name; `children()` gives the current process of each, `replace`
    installs a restarted one."""

    def __init__(
        self,
        settings: Settings,
        children: Callable[[], dict[str, ManagedProcess]],
        starters: dict[str, Starter],
        replace: Callable[[str, ManagedProcess], None],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.children = children
        self.starters = starters
        self.replace = replace
        self.on_change = on_change
        self.history: dict[str, ChildHistory] = {}
        self.busy = False  # inside a restart (a server's may wait up to 2 minutes)

    def record(self, name: str) -> ChildHistory:
        return self.history.setdefault(name, ChildHistory())

    def check(self) -> None:
        """One round: note deaths, restart what is due. Raises CrashLoop."""
        now = time.monotonic()
        for name, proc in list(self.children().items()):
            history = self.record(name)
            if history.restart_due is None and not proc.alive():
                self._died(name, proc, history, now)
            if history.restart_due is not None and now >= history.restart_due:
                self._restart(name, history)

    def _died(self, name: str, proc: ManagedProcess, history: ChildHistory, now: float) -> None:
        s = self.settings
        history.last_exit = proc.returncode()
        history.last_exit_at = time.time()
        history.deaths.append(now)
        while history.deaths and history.deaths[0] < now - s.restart_window:
            history.deaths.popleft()
        recent = len(history.deaths)
        if recent > s.restart_limit:
            log.error("%s exited with code %s: crash loop, giving up", name, history.last_exit)
            raise CrashLoop(name, recent, s.restart_window, proc.tail(15))
        delay = min(s.restart_backoff_max, s.restart_backoff * 2 ** (recent - 1))
        history.restart_due = now + delay
        log.warning(
            "%s exited with code %s; restarting it in %.1fs (restart %d, %d within %.0fs)",
            name,
            history.last_exit,
            delay,
            history.restarts + 1,
            recent,
            s.restart_window,
        )
        self.on_change()

    def _restart(self, name: str, history: ChildHistory) -> None:
        history.restart_due = None
        history.restarts += 1
        self.busy = True
        try:
            proc = self.starters[name]()
        except ProcessFailed as exc:  # did not come up: counts as another death
            log.warning("%s failed to restart: %s", name, exc)
            self._died(name, _Exited(name, exc), history, time.monotonic())
            return
        finally:
            self.busy = False
        self.replace(name, proc)
        log.info("%s restarted (pid %s, restart %d)", name, proc.pid, history.restarts)
        self.on_change()

    def run(self, stop: threading.Event, poll: float = 0.3) -> None:
        """Supervise until `stop` is set; raises CrashLoop."""
        while not stop.wait(poll):
            self.check()


class _Exited(ManagedProcess):
    """Stands in for a child that failed its restart (its exit is in the message)."""

    def __init__(self, name: str, exc: ProcessFailed) -> None:
        super().__init__(name, [], Path("/dev/null"))
        self._message = str(exc)

    def alive(self) -> bool:
        return False

    def returncode(self) -> int | None:
        return None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self._message.splitlines()[-lines:])
