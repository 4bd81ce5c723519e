"""The stack in its production shape on one machine: three Kafka nodes, the Temporal server
on PostgreSQL, and several stream and Temporal worker processes (the counts come from
`TUOYU_STREAM_WORKERS` and `TUOYU_TEMPORAL_WORKERS`). PostgreSQL itself is the caller's
(`TUOYU_DATABASE_URL`): Temporal keeps its two databases on the same server.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from infra import cluster, temporal_server
from infra.cluster import KafkaCluster
from infra.kafka import client_options, ensure_topics
from infra.migrate import prepare_database
from infra.process import CHILD_UMASK, ManagedProcess, make_private
from infra.settings import Settings
from infra.temporal_server import TemporalPorts
from models import topics
from workers.stack import Stack, reap_previous_run

log = logging.getLogger(__name__)


def cluster_settings(settings: Settings, kafka: KafkaCluster) -> Settings:
    """The settings with the cluster's bootstrap, replication and partition counts."""
    return settings.model_copy(
        update={
            "broker": "external",
            "kafka_bootstrap": kafka.bootstrap,
            "topic_replication": cluster.REPLICATION,
            "topic_min_insync_replicas": cluster.MIN_INSYNC,
            "temporal_embedded": False,
        }
    )


def settings_ports(settings: Settings) -> set[int]:
    """The ports the settings name (the API's, the SIP gateway's, the metrics', Temporal's):
    cluster ports are drawn apart from them."""
    ports = {settings.temporal_host_port[1], settings.http_port, settings.sip_port}
    ports |= {settings.sip_metrics_port}
    for base, count in (
        (settings.temporal_metrics_port, settings.temporal_workers),
        (settings.stream_metrics_port, settings.stream_workers),
    ):
        ports |= {base + i for i in range(count)}
    return ports


@dataclass
class ClusterStack(Stack):
    kafka: KafkaCluster = field(default_factory=KafkaCluster.on_free_ports)
    temporal_ports: TemporalPorts | None = None

    def start_servers(self) -> None:
        os.umask(CHILD_UMASK)
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        make_private(s.data_dir)
        reap_previous_run(s)
        temporal_server.ensure_server(s)
        if self.temporal_ports is None:
            self.temporal_ports = TemporalPorts.free(s.temporal_host_port[1], settings_ports(s))
        # The schema and the Temporal server while the three JVMs start.
        with ThreadPoolExecutor(max_workers=1) as pool:

            def temporal() -> None:
                temporal_server.setup_schema(s)
                self.servers.append(self.start_temporal())

            started = pool.submit(temporal)
            nodes = cluster.start_cluster(s, self.kafka)
            self.servers.extend(nodes)
            started.result()
        for node in self.kafka.nodes:
            self.starters[node.name] = cluster.node_starter(s, self.kafka, node)
        self.starters["temporal"] = self.start_temporal
        units = prepare_database(s.resolved_database_url)
        created = ensure_topics(
            s.kafka_bootstrap,
            s.topic_partitions,
            [*topics.ALL, *topics.changelog_topics(s.stream_app_id)],
            client_options(s),
            s.topic_replication,
            s.topic_min_insync_replicas,
        )
        log.info("database migrated, %d units loaded; topics created: %s", units, created or "none")
        make_private(s.data_dir)

    def start_temporal(self) -> ManagedProcess:
        assert self.temporal_ports is not None
        proc, self.temporal_ports = temporal_server.start_server_on_free_ports(
            self.settings, self.temporal_ports
        )
        return proc
