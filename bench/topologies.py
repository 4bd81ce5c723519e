"""The stacks the harness measures (`bench/harness.py --topology`):

- embedded: one broker (Tansu or Apache Kafka), the Temporal dev server, one stream and one
  Temporal worker process, 4 partitions;
- cluster: the production shape of `workers/cluster_stack.py`, as the cluster leg of the
  tests builds it (`tests/topology.py`): three KRaft nodes (replication 3,
  `min.insync.replicas=2`), the Temporal server on PostgreSQL, two stream and two Temporal
  worker processes, 6 partitions.

The application's database is SQLite or a private PostgreSQL (`infra/postgres.py`, as the
tests start it), started here and removed afterwards; the cluster needs PostgreSQL (its
Temporal server keeps its two databases there).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.throughput import bench_settings
from infra.cluster import KafkaCluster
from infra.postgres import start_postgres
from infra.process import free_port
from infra.settings import Settings
from workers.cluster_stack import ClusterStack, cluster_settings, settings_ports
from workers.stack import Stack

REPO = Path(__file__).resolve().parent.parent
TOPOLOGIES = ("embedded", "cluster")
# As the cluster leg of the tests: two stream workers hold 3 partitions each.
CLUSTER_PARTITIONS = 6
CLUSTER_WORKERS = 2


def cluster_of(settings: Settings) -> tuple[Settings, KafkaCluster]:
    """The embedded settings turned into the cluster's (ports drawn apart from theirs)."""
    taken = settings_ports(settings) | {settings.kafka_host_port[1]}
    taken |= {settings.stream_metrics_port + 1, settings.temporal_metrics_port + 1}
    kafka = KafkaCluster.on_free_ports(taken=taken)
    # The binary `make temporal-server` builds, unless TUOYU_TEMPORAL_SERVER_BIN_DIR says.
    bin_dir = settings.temporal_server_bin_dir or REPO / ".tuoyu" / "bin"
    made = cluster_settings(settings, kafka).model_copy(
        update={
            "topic_partitions": CLUSTER_PARTITIONS,
            "stream_workers": CLUSTER_WORKERS,
            "temporal_workers": CLUSTER_WORKERS,
            "temporal_server_bin_dir": bin_dir,
        }
    )
    return made, kafka


@contextmanager
def running(topology: str, broker: str, database: str) -> Iterator[Stack]:
    """The stack of `topology`, started, with its database; everything stopped on exit."""
    assert topology in TOPOLOGIES, topology
    if topology == "cluster" and database != "postgresql":
        raise SystemExit("the cluster topology runs Temporal on PostgreSQL: --database postgresql")
    home: Path | None = None
    postgres = None
    try:
        settings = bench_settings(broker)
        if "TUOYU_KAFKA_JARS_DIR" not in os.environ:  # one download for every run
            settings.kafka_jars_dir = REPO / ".tuoyu" / "kafka-jars"
        if database == "postgresql":
            # Not under a private temp dir of root's: PostgreSQL runs as `postgres`.
            home = Path(tempfile.mkdtemp(prefix="tuoyu-bench-pg-"))
            postgres, url = start_postgres(home, free_port())
            settings.database_url = url
        if topology == "embedded":
            stack: Stack = Stack(settings, temporal_ui=False)
        else:
            made, kafka = cluster_of(settings)
            stack = ClusterStack(made, temporal_ui=False, kafka=kafka)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        if postgres is not None:
            postgres.stop()
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
