"""The whole stack as child processes: what `tuoyu up` runs and what the tests start.

A little over 300 lines, kept whole: starting, supervising, recording (the pid file) and
reporting (`status`) read the same children and settings, and the test fixtures and the
cluster set-up change `Stack` as one piece."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from infra import servers
from infra.kafka import client_options, ensure_topics
from infra.migrate import prepare_database
from infra.process import CHILD_UMASK, ManagedProcess, make_private, port_open, stop_all
from infra.settings import Settings
from models import topics
from workers.supervision import Starter, Supervisor

log = logging.getLogger(__name__)


def child_env(settings: Settings) -> dict[str, str]:
    """The settings as `TUOYU_` variables, so every child sees exactly this configuration."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, Path):
            value = value.resolve()
        elif isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"TUOYU_{name.upper()}"] = str(value)
    env["TUOYU_DATABASE_URL"] = settings.resolved_database_url
    return env


@dataclass
class Stack:
    settings: Settings
    temporal_ui: bool = True
    servers: list[ManagedProcess] = field(default_factory=list)
    workers: dict[str, ManagedProcess] = field(default_factory=dict)
    starters: dict[str, Starter] = field(default_factory=dict)
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(
            self.settings, self.children, self.starters, self.replace, self.write_pids
        )

    @property
    def logs(self) -> Path:
        return self.settings.data_dir / "logs"

    def start_servers(self) -> None:
        # Private to its owner: files left 0644 by older versions are fixed here, and what
        # this process creates (the SQLite database during migration) is born private.
        os.umask(CHILD_UMASK)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        make_private(self.settings.data_dir)
        reap_previous_run(self.settings)
        # Temporal starts while the broker's JVM does (a first start: about 10 s sooner).
        with ThreadPoolExecutor(max_workers=1) as pool:
            temporal = (
                pool.submit(servers.start_temporal, self.settings, self.temporal_ui)
                if self.settings.temporal_embedded
                else None
            )
            broker: ManagedProcess | None = None
            try:
                broker = servers.start_broker(self.settings)
            finally:
                if broker is not None:
                    self.servers.append(broker)
                    self.starters[broker.name] = lambda: _started(
                        servers.start_broker(self.settings)
                    )
                if temporal is not None:
                    self.servers.append(temporal.result())
                    self.starters["temporal"] = lambda: servers.start_temporal(
                        self.settings, ui=self.temporal_ui
                    )
        units = prepare_database(self.settings.resolved_database_url)
        created = ensure_topics(
            self.settings.kafka_bootstrap,
            self.settings.topic_partitions,
            [*topics.ALL, *topics.changelog_topics(self.settings.stream_app_id)],
            client_options(self.settings),
            self.settings.topic_replication,
            self.settings.topic_min_insync_replicas,
        )
        log.info("database migrated, %d units loaded; topics created: %s", units, created or "none")
        make_private(self.settings.data_dir)

    def start_worker(
        self, name: str, module: str, env: dict[str, str] | None = None
    ) -> ManagedProcess:
        proc = ManagedProcess(
            name,
            [sys.executable, "-m", module],
            self.logs / f"{name}.log",
            env={**child_env(self.settings), **(env or {})},
            grace=self.settings.stop_budget + 1,
        ).start()
        self.workers[name] = proc
        self.starters[name] = lambda: self.start_worker(name, module, env)
        return proc

    def add_worker(self, name: str, argv: list[str]) -> ManagedProcess:
        """Any command as a supervised worker (the supervisor's tests use it)."""

        def start() -> ManagedProcess:
            proc = ManagedProcess(name, argv, self.logs / f"{name}.log", grace=1).start()
            self.workers[name] = proc
            return proc

        self.starters[name] = start
        return start()

    def start_workers(self) -> None:
        for i in range(1, self.settings.temporal_workers + 1):
            self.start_worker(
                "temporal-worker" if i == 1 else f"temporal-worker-{i}",
                "workers.temporal_worker",
                {"TUOYU_TEMPORAL_METRICS_PORT": str(self.settings.temporal_metrics_port + i - 1)},
            )
        for i in range(1, self.settings.stream_workers + 1):  # one consumer group
            self.start_worker(
                "stream-worker" if i == 1 else f"stream-worker-{i}",
                "workers.stream_worker",
                {"TUOYU_STREAM_METRICS_PORT": str(self.settings.stream_metrics_port + i - 1)},
            )
        self.start_worker("sip-gateway", "workers.sip_gateway")
        self.start_worker("api", "workers.api_server")
        self.workers["api"].wait_until(self.api_healthy, 60, "serving HTTP")
        host, port = self.settings.sip_host, self.settings.sip_port
        self.workers["sip-gateway"].wait_until(lambda: port_open(host, port), 30, "serving SIP")
        self.write_pids()

    def start(self) -> Stack:
        try:
            self.start_servers()
            self.start_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def api_healthy(self) -> bool:
        url = f"http://{self.settings.http_host}:{self.settings.http_port}/healthz"
        return httpx.get(url, timeout=2).status_code == 200

    def dead(self) -> list[ManagedProcess]:
        return [p for p in [*self.servers, *self.workers.values()] if not p.alive()]

    def children(self) -> dict[str, ManagedProcess]:
        return {**{p.name: p for p in self.servers}, **self.workers}

    def replace(self, name: str, proc: ManagedProcess) -> None:
        for i, server in enumerate(self.servers):
            if server.name == name:
                self.servers[i] = proc
                return
        self.workers[name] = proc

    def supervise(self, stop: threading.Event) -> None:
        """Restart children that die until `stop` is set; raises CrashLoop."""
        self.supervisor.run(stop)

    def stop(self) -> None:
        # Workers first, so nothing is in flight when the servers go; each group in
        # parallel, so the whole stop is two grace periods at most (under 10 s).
        budget = self.settings.stop_budget
        stop_all(list(self.workers.values()), budget + 0.5)  # they exit by themselves at budget
        stop_all(list(reversed(self.servers)), budget)
        self.pid_file().unlink(missing_ok=True)

    def pid_file(self) -> Path:
        return pid_file(self.settings)

    def write_pids(self) -> None:
        path = self.pid_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        children = {
            name: {
                "pid": proc.pid,
                "argv": proc.argv[:3],
                **self.supervisor.record(name).as_json(),
            }
            for name, proc in self.children().items()
        }
        path.write_text(json.dumps({"supervisor": os.getpid(), "children": children}))

    def endpoints(self) -> list[tuple[str, str]]:
        s = self.settings
        rows = [
            ("Kafka", f"{s.kafka_bootstrap} ({s.broker})"),
            ("Temporal", f"{s.temporal_address} namespace {s.temporal_namespace}"),
        ]
        if s.temporal_embedded and self.temporal_ui:
            host, port = s.temporal_host_port
            rows.append(("Temporal UI", f"http://{host}:{s.temporal_ui_port or port + 1000}"))
        rows += [
            ("Database", s.resolved_database_url),
            ("HTTP API", f"http://{s.http_host}:{s.http_port}/  (docs: /docs)"),
            ("SIP gateway", f"sip:{s.sip_platform_id}@{s.sip_host}:{s.sip_port} (UDP, TCP)"),
            ("Logs", str(self.logs.resolve())),
        ]
        return rows


def pid_file(settings: Settings) -> Path:
    return settings.data_dir / "run" / "pids.json"


def read_pids(settings: Settings) -> tuple[int | None, dict[str, dict[str, object]]]:
    path = pid_file(settings)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, {}
    return data.get("supervisor"), data.get("children", {})


def _started(proc: ManagedProcess | None) -> ManagedProcess:
    assert proc is not None  # only embedded brokers are supervised
    return proc


def reap_previous_run(settings: Settings) -> None:
    """A pid file left by a run that is still going refuses the start; one left by a run
    that was killed (kill -9 of `tuoyu up`) names orphans, which are stopped first so that
    nothing holds the ports."""
    supervisor, children = read_pids(settings)
    running = _cmdline(supervisor) if supervisor is not None else ""
    if supervisor != os.getpid() and ("python" in running or "tuoyu" in running):
        raise RuntimeError(
            f"tuoyu is already running on {settings.data_dir} (pid {supervisor}); "
            f"stop it first, or remove {pid_file(settings)} if that pid is not tuoyu"
        )
    for name, child in children.items():
        pid, argv = child.get("pid"), child.get("argv")
        if isinstance(pid, int) and isinstance(argv, list) and argv and argv[0] in _cmdline(pid):
            log.warning("stopping %s (pid %d) left running by a previous run", name, pid)
            try:
                os.killpg(pid, signal.SIGKILL)  # each child leads its own process group
            except (ProcessLookupError, PermissionError):
                pass
            for _ in range(50):
                if not _cmdline(pid):
                    break
                time.sleep(0.1)
    pid_file(settings).unlink(missing_ok=True)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def status(settings: Settings) -> list[tuple[str, bool, str]]:
    """What answers, as (component, healthy, detail)."""
    rows: list[tuple[str, bool, str]] = []
    host, port = settings.kafka_host_port
    rows.append(("Kafka", port_open(host, port), settings.kafka_bootstrap))
    rows.append(
        ("Temporal", _safe(lambda: servers.temporal_healthy(settings)), settings.temporal_address)
    )
    url = f"http://{settings.http_host}:{settings.http_port}/healthz"
    rows.append(("HTTP API", _safe(lambda: httpx.get(url, timeout=2).status_code == 200), url))
    _, children = read_pids(settings)
    rows.append(
        (
            "SIP gateway",
            port_open(settings.sip_host, settings.sip_port),
            f"{settings.sip_host}:{settings.sip_port}",
        )
    )
    for name, child in children.items():
        pid = child.get("pid")
        alive = isinstance(pid, int) and _pid_alive(pid)
        detail = f"pid {pid}, restarts {child.get('restarts', 0)}"
        if child.get("last_exit") is not None or child.get("last_exit_at") is not None:
            at = child.get("last_exit_at")
            when = time.strftime("%H:%M:%S", time.localtime(at)) if isinstance(at, float) else "?"
            detail += f", last exit {child.get('last_exit')} at {when}"
        if child.get("restarting"):
            detail += ", restarting"
        rows.append((name, alive, detail))
    if not children:
        rows.append(("supervisor", False, f"no {pid_file(settings)}: not started"))
    return rows


def _safe(check: object) -> bool:
    try:
        return bool(check())  # type: ignore[operator]
    except Exception:
        return False


def _pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
