"""The embedded Apache Kafka: its storage format never fails at random (a cluster id that
begins with `-`), a failing tool shows what it printed, and librdkafka clients (kcat) talk
to it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from infra.process import ProcessFailed, free_port
from infra.servers import format_storage, new_cluster_id, prepare_apache_kafka
from infra.settings import Settings
from models import topics
from tests.factories import complaint_payload
from workers.stack import Stack

REPO = Path(__file__).resolve().parent.parent
JARS = Path(os.environ.get("TUOYU_KAFKA_JARS_DIR", REPO / ".tuoyu" / "kafka-jars"))
needs_jars = pytest.mark.skipif(
    not (JARS / ".complete").exists() or shutil.which("java") is None,
    reason="Apache Kafka's jars and Java (make kafka-jars)",
)


def kafka_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        kafka_jars_dir=JARS,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
    )


def test_new_cluster_ids_never_begin_with_a_dash() -> None:
    ids = [new_cluster_id() for _ in range(5000)]  # a dash leads 1 in 64 raw ids
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids)


@needs_jars
def test_storage_is_formatted_even_with_a_cluster_id_that_begins_with_a_dash(
    tmp_path: Path,
) -> None:
    cluster_id = "-" + new_cluster_id()[1:]
    prepare_apache_kafka(kafka_settings(tmp_path), cluster_id=cluster_id)
    meta = (tmp_path / "kafka" / "data" / "meta.properties").read_text()
    assert f"cluster.id={cluster_id}" in meta


@needs_jars
def test_a_failing_storage_tool_shows_its_output(tmp_path: Path) -> None:
    java = ["java", "-cp", f"{JARS.resolve()}/*"]
    missing = tmp_path / "no-such-server.properties"
    with pytest.raises(ProcessFailed, match="formatting Kafka's storage failed") as raised:
        format_storage(java, missing, new_cluster_id())
    assert "no-such-server.properties" in str(raised.value)  # the tool's own words


def kcat(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("kcat") is None, reason="Debian's kcat")
async def test_kcat_lists_produces_and_consumes_on_the_stack_broker(stack: Stack) -> None:
    if stack.settings.broker == "tansu":
        pytest.skip("librdkafka cannot talk to Tansu (ApiVersion v3); Apache Kafka is the default")
    bootstrap = stack.settings.kafka_bootstrap
    listed = await asyncio.to_thread(kcat, "-b", bootstrap, "-L", "-J")
    assert listed.returncode == 0, listed.stderr.decode()
    names = {t["topic"] for t in json.loads(listed.stdout)["topics"]}
    assert set(topics.ALL) <= names

    topic = f"tuoyu.kcat-{uuid.uuid4().hex[:8]}"
    payload = complaint_payload()
    line = f"{payload['event_id']}\t{json.dumps(payload, ensure_ascii=False)}\n".encode()
    produced = await asyncio.to_thread(
        kcat,
        "-b",
        bootstrap,
        "-P",
        "-t",
        topic,
        "-K",
        "\t",
        "-X",
        "allow.auto.create.topics=true",
        stdin=line,
    )
    assert produced.returncode == 0, produced.stderr.decode()
    consumed = await asyncio.to_thread(
        kcat, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", "1", "-e", "-K", "\t"
    )
    assert consumed.returncode == 0, consumed.stderr.decode()
    key, _, value = consumed.stdout.decode().rstrip("\n").partition("\t")
    assert key == payload["event_id"] and json.loads(value) == payload
