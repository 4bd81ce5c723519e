"""Child-process supervision: stop with a grace period, then SIGKILL; death is noticed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infra.process import ManagedProcess, ProcessFailed

IGNORES_SIGINT = (
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def test_a_child_that_ignores_sigint_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "stubborn", [sys.executable, "-c", IGNORES_SIGINT], tmp_path / "p.log", grace=0.5
    )
    proc.start()
    proc.wait_until(lambda: "ready" in proc.tail(), 30, "ready")
    assert proc.stop() == -9
    assert not proc.alive()


def test_a_child_that_exits_during_start_up_fails_the_wait_with_its_output(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "broken",
        [sys.executable, "-c", "print('no config'); raise SystemExit(3)"],
        tmp_path / "b.log",
    )
    proc.start()
    with pytest.raises(ProcessFailed, match="no config"):
        proc.wait_until(lambda: False, 30, "ready")
    assert proc.returncode() == 3


def test_a_child_that_never_becomes_ready_is_stopped(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "slow", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "s.log"
    )
    proc.start()
    with pytest.raises(ProcessFailed, match="not ready"):
        proc.wait_until(lambda: False, 1, "ready")
    assert not proc.alive()
