"""The fault matrix on the default stack (Apache Kafka + SQLite): a mixed load with bad
events interleaved while each process in turn is killed with SIGKILL and the stack's own
supervisor brings it back. Afterwards every acknowledged event is exactly one case, finding
or dead letter, every dispatch recorded once and sent at least once; then the whole stack is
killed and started again on the same data dir, and all of it (topics, the stream worker's
committed offsets, cases) is still there.

Its own stack on its own data dir and ports: killing things must not disturb other tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaAdminClient

from infra.process import free_port
from infra.settings import Settings
from models import topics
from tests.faults import VICTIMS, Mix, Supervised, render

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    os.environ.get("TUOYU_TEST_BROKER", "tansu") != "kafka",
    reason="the default stack's broker (Apache Kafka): Tansu keeps its log in memory",
)


def fault_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        broker="kafka",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_jars_dir=Path(os.environ.get("TUOYU_KAFKA_JARS_DIR", REPO / ".tuoyu" / "kafka-jars")),
        temporal_address=f"127.0.0.1:{free_port()}",
        database_url=None,  # SQLite in the data dir
        http_port=free_port(),
        sip_port=free_port(),
        temporal_metrics_port=free_port(),
        stream_metrics_port=free_port(),
        sip_metrics_port=free_port(),
        topic_partitions=4,
        restart_backoff=0.5,
    )


@pytest.fixture
def data_dir() -> Path:
    """Removed by the test when it passed, kept when it fails (its logs and data say what
    went wrong); pytest's own temp dirs rotate away too soon on a busy machine."""
    return Path(tempfile.mkdtemp(prefix="tuoyu-faults-"))


@pytest.fixture
async def supervised(data_dir: Path) -> AsyncIterator[Supervised]:
    running = await asyncio.to_thread(Supervised, fault_settings(data_dir))
    try:
        yield running
    finally:
        await asyncio.to_thread(running.close)


async def healthy(mix: Mix, within: float = 180) -> None:
    """All children alive and the API answering: the next victim may go."""

    async def ok() -> bool:
        if any(not p.alive() for p in mix.stack.children().values()):
            return False
        try:
            return (await mix.http.get("/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await ok():
        assert loop.time() < deadline, "the stack did not come back"
        await asyncio.sleep(0.5)


def rewinds(data_dir: Path) -> int:
    """streams/offsets.py's warnings in the stream worker's logs: events faust dropped around
    a restart or rebalance, read again."""
    return sum(
        log.read_text(errors="replace").count("was dropped before its hand-off")
        for log in (data_dir / "logs").glob("stream-worker*")
    )


async def load(mix: Mix, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await mix.burst(complaints=2)


async def test_every_acknowledged_event_survives_each_process_killed_in_turn(
    supervised: Supervised, data_dir: Path
) -> None:
    stack = supervised.stack
    mix = Mix(stack)
    try:
        await mix.register_devices(3 * len(VICTIMS))
        downtime: dict[str, float] = {}
        for victim in VICTIMS:
            await mix.burst()
            stop = asyncio.Event()

            background = asyncio.create_task(load(mix, stop))
            downtime[victim] = await mix.kill(victim)
            await healthy(mix)
            stop.set()
            await background
            await mix.burst()
            assert supervised.failure is None, supervised.failure
        counts = await mix.settle(within=300)
        print(render(counts))
        print("seconds until restarted:", {k: round(v, 1) for k, v in downtime.items()})
        print("partitions read again from a dropped event:", rewinds(data_dir))
        assert mix.complete(counts), render(counts)
        restarts = {n: h.restarts for n, h in stack.supervisor.history.items()}
        assert all(restarts.get(v, 0) >= 1 for v in VICTIMS), restarts
        acked = mix.acked
        assert acked.complaints and acked.alarms and acked.inspections and acked.bad
    finally:
        await mix.close()

    # A crash of everything, then `tuoyu up` again on the same data dir.
    settings = stack.settings
    await asyncio.to_thread(supervised.close, True)
    again = await asyncio.to_thread(Supervised, settings)
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        try:
            assert set(topics.ALL) <= set(admin.list_topics())
            group = settings.stream_app_id
            offsets = admin.list_group_offsets(group)[group]
            committed = {tp.topic: o.offset for tp, o in offsets.items() if o.offset > 0}
            assert topics.COMPLAINTS in committed and topics.REGISTRY in committed, offsets
        finally:
            admin.close()
        survivor = Mix(again.stack, run=mix.run)
        survivor.acked = mix.acked
        try:
            counts = await survivor.settle(within=120)
            assert survivor.complete(counts), render(counts)
        finally:
            await survivor.close()
    finally:
        await asyncio.to_thread(again.close)
    shutil.rmtree(data_dir, ignore_errors=True)  # passed: nothing to look at
