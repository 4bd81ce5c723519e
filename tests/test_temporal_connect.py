"""A Temporal worker started while its server is down (started with it, or restarted
meanwhile) waits for it instead of exiting: the cluster leg found a worker restarted during
the Temporal server's restart dead at the end. On the real dev server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from infra.process import free_port
from infra.servers import start_temporal
from infra.settings import Settings
from infra.temporal import connect_when_up


async def test_a_client_started_before_its_server_connects_once_it_is_up(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
    )
    waiting = asyncio.ensure_future(connect_when_up(settings))
    await asyncio.sleep(1.5)  # a few refused attempts first; there is nothing to poll yet
    assert not waiting.done(), waiting  # still waiting, not failed
    server = await asyncio.to_thread(start_temporal, settings, False)
    try:
        client = await waiting
        assert (await client.service_client.check_health()) is not None
    finally:
        await asyncio.to_thread(server.stop)
