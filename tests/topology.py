"""`TUOYU_TEST_TOPOLOGY=cluster`: the session's stack in its production shape (three Kafka
nodes, the Temporal server on PostgreSQL, two stream and two Temporal worker processes, 6
partitions); `embedded` (the default) is one broker and the Temporal dev server."""

from __future__ import annotations

import os
from pathlib import Path

from infra.cluster import KafkaCluster
from infra.settings import Settings
from workers.cluster_stack import ClusterStack, cluster_settings, settings_ports
from workers.stack import Stack

REPO = Path(__file__).resolve().parent.parent
TOPOLOGY = os.environ.get("TUOYU_TEST_TOPOLOGY", "embedded")
assert TOPOLOGY in ("embedded", "cluster"), f"TUOYU_TEST_TOPOLOGY={TOPOLOGY!r}"
CLUSTER = TOPOLOGY == "cluster"
# Inbound topics on the cluster: 6 partitions, so two stream workers hold 3 each.
CLUSTER_PARTITIONS = 6
_clusters: dict[str, KafkaCluster] = {}


def for_topology(settings: Settings) -> Settings:
    """The session's settings, turned into the cluster's when the topology asks for it."""
    if not CLUSTER:
        return settings
    assert settings.database_url and settings.database_url.startswith("postgresql"), (
        "the cluster topology runs Temporal on PostgreSQL: TUOYU_TEST_DATABASE=postgresql"
    )
    taken = settings_ports(settings) | {settings.kafka_host_port[1]}
    taken |= {settings.stream_metrics_port + 1, settings.temporal_metrics_port + 1}
    kafka = KafkaCluster.on_free_ports(taken=taken)
    bin_dir = os.environ.get("TUOYU_TEMPORAL_SERVER_BIN_DIR", str(REPO / ".tuoyu" / "bin"))
    made = cluster_settings(settings, kafka).model_copy(
        update={
            "topic_partitions": CLUSTER_PARTITIONS,
            "stream_workers": 2,
            "temporal_workers": 2,
            "temporal_server_bin_dir": Path(bin_dir),
        }
    )
    _clusters[made.kafka_bootstrap] = kafka
    return made


def make_stack(settings: Settings) -> Stack:
    kafka = _clusters.get(settings.kafka_bootstrap)
    if kafka is None:
        return Stack(settings, temporal_ui=False)
    return ClusterStack(settings, temporal_ui=False, kafka=kafka)


def broker_names(stack: Stack) -> list[str]:
    """The broker processes: `kafka` or `tansu` alone, or the cluster's `kafka-N`."""
    return [p.name for p in stack.servers if p.name in ("kafka", "tansu") or p.name[:6] == "kafka-"]
