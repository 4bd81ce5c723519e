"""Supervision that heals: `tuoyu up` restarts a child that dies, gives up only on a crash
loop, and stops everything on SIGINT or SIGTERM in under 10 s with every port free."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.process import free_port, port_open
from infra.settings import Settings
from tests.polling import eventually
from workers.stack import Stack, read_pids
from workers.supervision import CrashLoop

REPO = Path(__file__).resolve().parent.parent
TUOYU = str(Path(sys.executable).parent / "tuoyu")
STOP_LIMIT = 10.0  # seconds: the requirement for Ctrl-C


def test_a_crash_loop_gives_up_after_the_limit_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path, restart_backoff=0.05, restart_limit=3, restart_window=60, stop_budget=1
    )
    stack = Stack(settings)
    steady = stack.add_worker("steady", [sys.executable, "-c", "import time; time.sleep(120)"])
    stack.add_worker("flaky", [sys.executable, "-c", "print('bad config'); raise SystemExit(3)"])
    try:
        with pytest.raises(CrashLoop, match="flaky died 4 times") as raised:
            stack.supervise(threading.Event())
        assert "bad config" in str(raised.value)
        history = stack.supervisor.history["flaky"]
        assert history.restarts == 3 and history.last_exit == 3
        assert steady.alive()  # a crash loop of one child left the others alone until now
    finally:
        stack.stop()
    assert not steady.alive()


def private_env(data_dir: Path) -> dict[str, str]:
    """`tuoyu up` on free ports and a data dir of its own (never the default ports)."""
    kafka = free_port()
    env = {
        "TUOYU_DATA_DIR": str(data_dir),
        "TUOYU_BROKER": os.environ.get("TUOYU_TEST_BROKER", "tansu"),
        "TUOYU_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",
        "TUOYU_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TUOYU_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TUOYU_TEMPORAL_UI_PORT": str(free_port()),
        "TUOYU_HTTP_PORT": str(free_port()),
        "TUOYU_SIP_PORT": str(free_port()),
        "TUOYU_TEMPORAL_METRICS_PORT": str(free_port()),
        "TUOYU_STREAM_METRICS_PORT": str(free_port()),
        "TUOYU_SIP_METRICS_PORT": str(free_port()),
        "TUOYU_KAFKA_JARS_DIR": os.environ.get(
            "TUOYU_KAFKA_JARS_DIR", str(REPO / ".tuoyu" / "kafka-jars")
        ),
    }
    return {k: v for k, v in os.environ.items() if not k.startswith("TUOYU_")} | env


def ports_of(env: dict[str, str]) -> list[int]:
    names = ["HTTP_PORT", "SIP_PORT", "TEMPORAL_UI_PORT", "KAFKA_CONTROLLER_PORT"]
    names += ["TEMPORAL_METRICS_PORT", "STREAM_METRICS_PORT", "SIP_METRICS_PORT"]
    ports = [int(env[f"TUOYU_{n}"]) for n in names]
    ports += [
        int(env[v].rsplit(":", 1)[1]) for v in ("TUOYU_KAFKA_BOOTSTRAP", "TUOYU_TEMPORAL_ADDRESS")
    ]
    return ports


class Up:
    """`tuoyu up` as a subprocess, as a user starts it."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, log: str = "up.log"
    ) -> None:
        self.env = env or private_env(data_dir)
        fields: dict[str, Any] = {
            k.removeprefix("TUOYU_").lower(): v
            for k, v in self.env.items()
            if k.startswith("TUOYU_")
        }
        self.settings = Settings.model_validate(fields)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / log).open("wb")
        self.proc = subprocess.Popen(
            [TUOYU, "up"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO
        )

    @property
    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def healthz(self) -> bool:
        url = f"http://127.0.0.1:{self.settings.http_port}/healthz"
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    async def ready(self) -> None:
        assert await eventually(lambda: "Press Ctrl-C" in self.output, 300), self.output[-3000:]

    def children(self) -> dict[str, dict[str, object]]:
        return read_pids(self.settings)[1]

    def status(self) -> str:
        done = subprocess.run([TUOYU, "status"], env=self.env, capture_output=True, text=True)
        return done.stdout

    def stop(self, sig: int) -> float:
        pids = [c["pid"] for c in self.children().values() if isinstance(c.get("pid"), int)]
        began = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)
        took = time.monotonic() - began
        self.log.close()
        busy = [p for p in ports_of(self.env) if port_open("127.0.0.1", p)]
        assert not busy, f"ports still held after the stop: {busy}"
        alive = [p for p in pids if isinstance(p, int) and _running(p)]
        assert not alive, f"children still running: {alive}"
        return took

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for child in self.children().values():
            pid = child.get("pid")
            if isinstance(pid, int):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "up")
    try:
        yield running
    finally:
        running.kill()


@pytest.mark.integration
async def test_a_killed_worker_is_restarted_and_serves_then_sigint_stops_all_in_time(
    up: Up,
) -> None:
    await up.ready()
    before = up.children()["api"]["pid"]
    assert isinstance(before, int)
    os.killpg(before, signal.SIGKILL)

    def restarted() -> bool:
        api = up.children().get("api", {})
        return api.get("pid") not in (None, before) and up.healthz()

    assert await eventually(restarted, 120), up.output[-3000:]
    assert up.proc.poll() is None  # the rest kept running: nothing was stopped
    api = up.children()["api"]
    assert api["restarts"] == 1 and api["last_exit"] == -9
    assert "api exited with code -9; restarting it" in up.output
    status = up.status()
    assert "restarts 1, last exit -9" in status, status
    took = up.stop(signal.SIGINT)
    assert up.proc.returncode == 0, up.output[-2000:]
    assert took < STOP_LIMIT, f"SIGINT: stopped in {took:.1f}s\n{up.output[-3000:]}"
    print(f"SIGINT: tuoyu up stopped in {took:.1f}s")
    print("\n".join(line for line in up.output.splitlines() if "stop" in line))


@pytest.mark.integration
async def test_sigterm_stops_all_in_time_with_every_port_free(up: Up) -> None:
    await up.ready()
    took = up.stop(signal.SIGTERM)
    assert took < STOP_LIMIT, f"SIGTERM: stopped in {took:.1f}s\n{up.output[-3000:]}"
    print(f"SIGTERM: tuoyu up stopped in {took:.1f}s")
    print("\n".join(line for line in up.output.splitlines() if "stop" in line))


@pytest.mark.integration
async def test_an_orphan_of_a_killed_run_is_stopped_before_the_next_start(tmp_path: Path) -> None:
    first = Up(tmp_path / "up")
    try:
        await first.ready()
        api = first.children()["api"]["pid"]
        first.proc.kill()  # kill -9 of `tuoyu up` itself: its children live on
        first.proc.wait()
        assert isinstance(api, int) and _running(api)
        second = Up(tmp_path / "up", first.env, "up2.log")
        try:
            await second.ready()
            assert "left running by a previous run" in second.output
            assert not _running(api)
            second.stop(signal.SIGINT)
        finally:
            second.kill()
    finally:
        first.kill()


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_status_reads_the_pid_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "pids.json").write_text(
        json.dumps(
            {
                "supervisor": 1,
                "children": {"api": {"pid": 1, "restarts": 2, "last_exit": 1, "last_exit_at": 0.0}},
            }
        )
    )
    from workers.stack import status

    rows = status(
        Settings(
            data_dir=tmp_path,
            http_port=free_port(),
            sip_port=free_port(),
            kafka_bootstrap=f"127.0.0.1:{free_port()}",
            temporal_address=f"127.0.0.1:{free_port()}",
        )
    )
    api = next(r for r in rows if r[0] == "api")
    assert "restarts 2, last exit 1" in api[2]


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_temporal_worker_stops_on_a_signal_when_its_server_stopped_answering(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Leaving `async with Worker` waits for the server; a frozen one (SIGSTOP: a hung VM,
    a full disk) held the worker 30 s past SIGINT."""
    from infra import servers
    from infra.migrate import prepare_database

    settings = Settings(
        data_dir=tmp_path,
        broker="tansu",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_metrics_port=free_port(),
    )
    stack = Stack(settings, temporal_ui=False)
    try:
        stack.servers.append(servers.start_tansu(settings))
        temporal = servers.start_temporal(settings, ui=False)
        stack.servers.append(temporal)
        prepare_database(settings.resolved_database_url)
        worker = stack.start_worker("temporal-worker", "workers.temporal_worker")
        worker.wait_until(lambda: "worker ready" in worker.tail(), 120, "ready")
        temporal.signal(signal.SIGSTOP)
        began = time.monotonic()
        worker.signal(sig)
        assert worker.proc is not None
        try:
            worker.proc.wait(timeout=60)
        finally:
            temporal.signal(signal.SIGCONT)
        took = time.monotonic() - began
        assert took < STOP_LIMIT, f"{sig.name}: the worker took {took:.1f}s"
    finally:
        stack.stop()
