"""Child processes that are started, health-checked and stopped by code."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


# Children create their files for their owner only (the database, its WAL, Temporal's
# store, Kafka's log, the logs): they hold personal data and secrets.
CHILD_UMASK = 0o077


class ProcessFailed(RuntimeError):
    pass


def make_private(root: Path) -> int:
    """`root` and every directory under it 0700, every file 0600 (symbolic links are not
    followed, so a shared cache linked in is left alone); returns how many were changed."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    changed = 0
    for where, dirs, files in os.walk(root):
        for name, mode in [(where, 0o700), *((os.path.join(where, f), 0o600) for f in files)]:
            try:
                st = os.lstat(name)
                if not os.path.islink(name) and st.st_mode & 0o777 != mode:
                    os.chmod(name, mode)
                    changed += 1
            except FileNotFoundError:
                continue  # a file a running server just removed
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(where, d))]
    return changed


class ManagedProcess:
    """One child process with its output in a log file.

    Stopping sends SIGINT (what Ctrl-C would), waits `grace` seconds, then SIGKILLs the
    whole process group: a faust worker has been seen to hang on SIGTERM.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        grace: float = 20.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.grace = grace
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        logfile = os.fdopen(fd, "ab")
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.proc = subprocess.Popen(
            self.argv,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            cwd=self.cwd,
            start_new_session=True,  # our Ctrl-C does not reach it; we stop it in order
            umask=CHILD_UMASK,
        )
        logfile.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `check` until it is true; fail early if the process exits, and stop it if it
        does not become ready in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcessFailed(f"{self.name} exited with {self.returncode()}: {self.tail()}")
            try:
                if check():
                    return
            except Exception as exc:  # a health probe failing is the normal "not yet"
                log.debug("%s not ready: %r", self.name, exc)
            except BaseException:  # Ctrl-C while waiting: the caller never gets the process
                self.stop(grace=2)
                raise
            try:
                time.sleep(0.2)
            except BaseException:
                self.stop(grace=2)
                raise
        tail = self.tail()
        self.stop(grace=5)  # not ready is as good as dead: leave nothing behind
        raise ProcessFailed(f"{self.name} was not {what} within {timeout:.0f}s: {tail}")

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace: float | None = None) -> int | None:
        if self.proc is None:
            return None
        if self.alive():
            self.signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=self.grace if grace is None else grace)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", self.name)
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)


def stop_all(procs: Sequence[ManagedProcess], grace: float) -> None:
    """SIGINT to all at once, then SIGKILL whatever is left after `grace` seconds: stopping
    one after the other added every child's stop time up (43 s measured)."""
    running = [p for p in procs if p.alive()]
    for proc in running:
        proc.signal(signal.SIGINT)
    began = time.monotonic()
    deadline = began + grace
    for proc in running:
        assert proc.proc is not None
        try:
            code = proc.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            log.info("%s stopped (exit %s, %.1fs)", proc.name, code, time.monotonic() - began)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0fs; killing it", proc.name, grace)
            proc.kill()
    for proc in running:  # what a child left in its process group (a JVM's helpers)
        if proc.proc is not None:
            try:
                os.killpg(proc.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def port_open(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a port from that range can be
    taken by any outgoing connection before the server binds it (or binds it again after a
    restart)."""
    import random
    import socket

    low = _ephemeral_low()
    for _ in range(200):
        # Some servers also bind derived ports (Temporal: its own + 1000); keep those below too.
        port = random.randrange(max(1024, low - 12000), low - 1100)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
