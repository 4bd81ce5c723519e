"""Every process stops within a budget on SIGINT or SIGTERM, whatever its shutdown waits on.

Measured: a Temporal worker whose server stopped answering (SIGSTOP, a frozen VM) took 30 s
to leave `async with Worker(...)` after SIGINT, and faust has hung on SIGTERM while an agent
crash-looped. A graceful stop is tried first; once the budget is spent the process exits
anyway (nothing is lost: offsets are committed only after a hand-off, Temporal keeps the
work, producers send before anything is acknowledged). A second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)
_armed = threading.Event()


def arm(budget: float, name: str) -> None:
    """Call when a stop signal arrives: exit with code 1 if still running after `budget`
    seconds; a second call (a second signal) exits at once."""
    if _armed.is_set():
        _exit(name, "a second stop signal")
    _armed.set()

    def deadline() -> None:
        _exit(name, f"still stopping after {budget:.0f}s")

    timer = threading.Timer(budget, deadline)
    timer.daemon = True
    timer.start()


def _exit(name: str, why: str) -> None:
    message = f"{name}: {why}; exiting without finishing the graceful stop\n"
    try:
        sys.stderr.write(message)
        sys.stderr.flush()
    finally:
        os._exit(1)


def backstop(budget: float, name: str) -> None:
    """Arm the deadline from the signal itself, after the event loop's own handlers are in
    place. asyncio learns of a signal through its wake-up fd whatever Python handler is
    installed, so the loop still runs its stop; this handler runs even while the loop is
    busy (faust's was: a stream worker once ignored SIGINT past its grace period)."""

    def handler(_signum: int, _frame: object) -> None:
        arm(budget, name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def early_handlers(budget: float, name: str) -> None:
    """Until the process installs its own handlers: a stop signal during start-up ends it
    (SIGINT would otherwise raise KeyboardInterrupt wherever start-up happens to be)."""

    def handler(signum: int, _frame: object) -> None:
        if not _armed.is_set():  # uvicorn re-raises the signal it handled: not a second one
            arm(budget, name)
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
