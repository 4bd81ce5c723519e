"""Where the personal-data tests look: every topic, Temporal's store, its CLI and a raw
history, the logs, every table; with the spellings a serializer or a log may use."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from sqlalchemy import inspect, text
from temporalio.client import Client

from infra.db import SessionFactory
from infra.servers import venv_binary
from tests.kafka_reader import TopicReader
from tests.polling import eventually_async
from workers.stack import Stack


def spellings(*values: str) -> list[bytes]:
    """Each value as UTF-8 and as JSON's ASCII escapes (both cases of hex), as a log or a
    serializer may write it."""
    found: list[bytes] = []
    for value in values:
        escaped = json.dumps(value)[1:-1]
        found += {value.encode(), escaped.encode(), escaped.upper().replace("\\U", "\\u").encode()}
    return found


def hits(blob: bytes, needles: Iterable[bytes]) -> list[bytes]:
    return [n for n in needles if n in blob]


async def all_topic_records(bootstrap: str, wanted: dict[str, str]) -> dict[str, bytes]:
    """Every record of every topic (keys and values), once the `wanted` event ids are there."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    names = [t for t in admin.list_topics() if not t.startswith("__")]
    admin.close()
    blobs: dict[str, bytes] = {}
    for name in names:
        reader = TopicReader(bootstrap, name)
        try:
            if name in wanted:
                marker = wanted[name].encode()

                def has_marker(record: Any, marker: bytes = marker) -> bool:
                    return marker in (record.value or b"")

                await reader.wait_for(has_marker)
            empty = 0
            while empty < 3:  # the rest of the topic: until three polls bring nothing more
                before = len(reader.records)
                await asyncio.to_thread(reader.poll)
                empty = empty + 1 if len(reader.records) == before else 0
            blobs[name] = b"\n".join(
                (r.key or b"") + b" " + (r.value or b"") for r in reader.records
            )
        finally:
            reader.close()
    return blobs


def every_table(sessions: SessionFactory) -> dict[str, bytes]:
    with sessions() as session:
        engine = session.get_bind()
        dumped: dict[str, bytes] = {}
        for table in inspect(engine).get_table_names():
            rows = session.execute(text(f'SELECT * FROM "{table}"')).all()
            dumped[table] = "\n".join(repr(tuple(row)) for row in rows).encode()
        return dumped


def files_under(*dirs: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for d in dirs if d.exists() for p in d.rglob("*") if p.is_file()}


async def raw_history(stack: Stack, workflow_id: str) -> bytes:
    """A workflow's history as a client without the codec fetches it: the raw protobuf."""
    s = stack.settings
    client = await Client.connect(s.temporal_address, namespace=s.temporal_namespace)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


def cli(stack: Stack, *args: str) -> bytes:
    """What `temporal workflow ...` prints, as text (payloads shown decoded from JSON) and as
    JSON (payloads in base64, decoded here)."""
    s = stack.settings
    command = [venv_binary("temporal"), "workflow", *args, "--address", s.temporal_address]
    command += ["--namespace", s.temporal_namespace]
    text_out = subprocess.run(command, capture_output=True, check=True)
    json_out = subprocess.run([*command, "-o", "json"], capture_output=True, check=True)
    return b"\n".join(
        [text_out.stdout, text_out.stderr, json_out.stdout, *base64_strings(json_out.stdout)]
    )


def base64_strings(output: bytes) -> list[bytes]:
    """Every JSON string value in the output that is base64, decoded."""
    decoded = []
    for match in re.finditer(rb'"([A-Za-z0-9+/]{8,}={0,2})"', output):
        try:
            decoded.append(base64.b64decode(match[1], validate=True))
        except ValueError:
            continue
    return decoded


async def completed(temporal_client: Client, workflow_id: str) -> None:
    async def done() -> bool:
        try:
            described = await temporal_client.get_workflow_handle(workflow_id).describe()
        except Exception:  # not started yet
            return False
        return described.status is not None and described.status.name == "COMPLETED"

    assert await eventually_async(done), workflow_id
