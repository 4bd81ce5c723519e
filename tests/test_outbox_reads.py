"""The outbox relay reads the unsent rows beside the writers, not behind them: on SQLite the
writer engine has one connection and begins with BEGIN IMMEDIATE, so a relay reading through
it waited for every activity transaction queued before it, and each dispatch with it (the
harness's outbox -> topic p99 at 5/s: 57 ms so, 35 ms reading on a reader engine)."""

from __future__ import annotations

import threading
from pathlib import Path

from infra.db import make_engine, session_factory
from infra.migrate import prepare_database
from infra.outbox import Relay, enqueue
from tests.conftest import own_database
from tests.polling import eventually


async def test_the_relay_publishes_while_a_writer_holds_the_database(
    database_url: str, test_data_dir: Path
) -> None:
    url = own_database(database_url, test_data_dir, "tuoyu_outbox_reads")
    prepare_database(url)
    engine, readers = make_engine(url), make_engine(url, writer=False)
    sessions = session_factory(engine)
    with sessions() as session:
        enqueue(session, "tuoyu.test-outbox", "k", b"one")
        session.commit()
    seen: list[bytes] = []

    class Recorder:
        def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
            seen.extend(v for _, v in messages)

    relay = Relay(sessions, engine, Recorder(), readers=session_factory(readers))
    writer = sessions()
    writer.connection()  # a write transaction under way (SQLite: the write lock, the connection)
    draining = threading.Thread(target=relay.drain)
    draining.start()
    try:
        assert await eventually(lambda: seen == [b"one"], 60)
    finally:
        writer.rollback()
        writer.close()
        draining.join()
        relay.close()
        readers.dispose()
        engine.dispose()
