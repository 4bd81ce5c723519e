"""The stream worker's Kafka consumer waits at the broker no longer than configured (faust
itself fixes 1,500 ms; see streams/transport.py)."""

from __future__ import annotations

from typing import Any

from infra.settings import get_settings
from streams.app import app
from streams.transport import ConsumerThread


async def ignore(*_: Any) -> None:
    return None


async def test_the_consumer_takes_its_fetch_wait_from_settings() -> None:
    consumer = app.transport.create_consumer(
        callback=ignore, on_partitions_revoked=ignore, on_partitions_assigned=ignore
    )
    thread = consumer._new_consumer_thread()  # type: ignore[attr-defined]
    assert isinstance(thread, ConsumerThread)
    kafka = thread._create_worker_consumer(app.transport)
    try:
        # The attribute the fetcher reads when the consumer starts (aiokafka's own name).
        assert kafka._fetch_max_wait_ms == get_settings().stream_fetch_max_wait_ms == 100
    finally:
        await kafka.stop()
