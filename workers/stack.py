"""The whole stack as child processes: what `tuoyu up` runs and what the tests start."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from infra import servers
from infra.kafka import client_options, ensure_topics
from infra.migrate import prepare_database
from infra.process import CHILD_UMASK, ManagedProcess, make_private, port_open
from infra.settings import Settings
from models import topics

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

    @property
    def logs(self) -> Path:
        return self.settings.data_dir / "logs"

    def start_servers(self) -> None:
        # Private to its owner: files left 0644 by older versions are fixed here, and what
        # this process creates (the SQLite database during migration) is born private.
        os.umask(CHILD_UMASK)
        make_private(self.settings.data_dir)
        broker = servers.start_broker(self.settings)
        if broker is not None:
            self.servers.append(broker)
        if self.settings.temporal_embedded:
            self.servers.append(servers.start_temporal(self.settings, ui=self.temporal_ui))
        units = prepare_database(self.settings.resolved_database_url)
        created = ensure_topics(
            self.settings.kafka_bootstrap,
            self.settings.topic_partitions,
            [*topics.ALL, *topics.changelog_topics(self.settings.stream_app_id)],
            client_options(self.settings),
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
            grace=20,
        ).start()
        self.workers[name] = proc
        return proc

    def start_workers(self) -> None:
        for i in range(1, self.settings.temporal_workers + 1):
            self.start_worker(
                "temporal-worker" if i == 1 else f"temporal-worker-{i}",
                "workers.temporal_worker",
                {"TUOYU_TEMPORAL_METRICS_PORT": str(self.settings.temporal_metrics_port + i - 1)},
            )
        self.start_worker("stream-worker", "workers.stream_worker")
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

    def stop(self) -> None:
        # Workers first, so nothing is in flight when the servers go.
        for proc in [*reversed(self.workers.values()), *reversed(self.servers)]:
            proc.stop()
        pids = self.pid_file()
        pids.unlink(missing_ok=True)

    def pid_file(self) -> Path:
        return self.settings.data_dir / "run" / "pids.json"

    def write_pids(self) -> None:
        path = self.pid_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({p.name: p.pid for p in [*self.servers, *self.workers.values()]})
        )

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

    def watch(self, poll: float = 0.5) -> ManagedProcess:
        """Block until a child dies; returns it."""
        while True:
            dead = self.dead()
            if dead:
                return dead[0]
            time.sleep(poll)


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
    pid_path = settings.data_dir / "run" / "pids.json"
    pids: dict[str, int] = json.loads(pid_path.read_text()) if pid_path.exists() else {}
    rows.append(
        (
            "SIP gateway",
            port_open(settings.sip_host, settings.sip_port),
            f"{settings.sip_host}:{settings.sip_port}",
        )
    )
    for name in ("temporal-worker", "stream-worker", "sip-gateway"):
        pid = pids.get(name)
        rows.append(
            (name, pid is not None and _pid_alive(pid), f"pid {pid}" if pid else "not started")
        )
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
