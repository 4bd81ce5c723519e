"""A three-node Apache Kafka cluster on one machine: combined KRaft nodes (broker and
controller each) on their own ports and log dirs, replicated as production is.

Every topic gets `replication.factor=3` and `min.insync.replicas=2`: with `acks=all` (every
producer of ours) a write is acknowledged only once two nodes have it, so one node may die
at any moment without losing an acknowledged event, and writes go on while two are up.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from infra.process import ManagedProcess, free_port
from infra.servers import KAFKA_LOG4J, _broker_ready, ensure_kafka_jars, new_cluster_id, run_tool
from infra.settings import Settings

NODES = 3
REPLICATION = 3
MIN_INSYNC = 2


@dataclass(frozen=True)
class KafkaNode:
    node_id: int
    host: str
    port: int
    controller_port: int

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class KafkaCluster:
    nodes: tuple[KafkaNode, ...]
    cluster_id: str

    @classmethod
    def on_free_ports(
        cls, host: str = "127.0.0.1", count: int = NODES, taken: set[int] | None = None
    ) -> KafkaCluster:
        ports = free_ports(2 * count, taken)
        nodes = tuple(
            KafkaNode(i, host, ports[2 * i - 2], ports[2 * i - 1]) for i in range(1, count + 1)
        )
        return cls(nodes, new_cluster_id())

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    @property
    def voters(self) -> str:
        return ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in self.nodes)

    def node(self, name: str) -> KafkaNode:
        return next(n for n in self.nodes if n.name == name)


_drawn: set[int] = set()


def free_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """`count` ports free now, distinct from each other, from `taken` and from every port
    drawn here before: free_port draws at random and a port drawn is free until its server
    binds it, so two draws can meet (seen twice in a row with 25 ports drawn at once)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in _drawn and port not in (taken or ()):
            _drawn.add(port)
            ports.append(port)
    return ports


def node_config(settings: Settings, cluster: KafkaCluster, node: KafkaNode) -> list[str]:
    logs = (settings.data_dir / node.name / "data").resolve()
    return [
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        # A static quorum of the three controllers: two of them elect a leader.
        f"controller.quorum.voters={cluster.voters}",
        f"listeners=PLAINTEXT://{node.address},CONTROLLER://{node.host}:{node.controller_port}",
        f"advertised.listeners=PLAINTEXT://{node.address}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={logs}",
        f"num.partitions={settings.topic_partitions}",
        # Any topic created without explicit settings is replicated too.
        f"default.replication.factor={REPLICATION}",
        f"min.insync.replicas={MIN_INSYNC}",
        # A follower that falls behind leaves the ISR after this long; the writes then wait
        # for the others only (default 30 s; a SIGKILLed node is noticed by its session).
        "replica.lag.time.max.ms=10000",
        f"offsets.topic.replication.factor={REPLICATION}",
        "offsets.topic.num.partitions=6",
        f"transaction.state.log.replication.factor={REPLICATION}",
        f"transaction.state.log.min.isr={MIN_INSYNC}",
        f"share.coordinator.state.topic.replication.factor={REPLICATION}",
        f"share.coordinator.state.topic.min.isr={MIN_INSYNC}",
        # No unclean election: a replica that missed acknowledged writes never leads.
        "unclean.leader.election.enable=false",
        # Two stream workers join one group: a short delay lets both in one rebalance.
        "group.initial.rebalance.delay.ms=500",
        "",
    ]


def prepare_node(
    settings: Settings, cluster: KafkaCluster, node: KafkaNode
) -> tuple[list[str], Path]:
    """Write the node's configuration and format its log dir on its first start; returns
    the java command line and the configuration file."""
    jars = ensure_kafka_jars(settings)
    home = settings.data_dir / node.name
    home.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text("\n".join(node_config(settings, cluster, node)))
    log4j = home / "log4j2.properties"
    log4j.write_text(KAFKA_LOG4J)
    java = [
        "java",
        # Three JVMs on a 2-core machine: small heaps, one GC thread pool each.
        "-Xms128m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:ParallelGCThreads=1",
        "-XX:CICompilerCount=2",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j.resolve()}",
        "-cp",
        f"{jars.resolve()}/*",
    ]
    if not (home / "data" / "meta.properties").exists():
        # A static quorum (controller.quorum.voters): neither --standalone nor
        # --initial-controllers; every node formatted with the same cluster id.
        run_tool(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster.cluster_id}",
                "--config",
                str(config),
            ],
            f"formatting {node.name}'s storage",
        )
    return java, config


def spawn_node(settings: Settings, cluster: KafkaCluster, node: KafkaNode) -> ManagedProcess:
    java, config = prepare_node(settings, cluster, node)
    return ManagedProcess(
        node.name,
        [*java, "kafka.Kafka", str(config)],
        settings.data_dir / "logs" / f"{node.name}.log",
        grace=settings.stop_budget + 1,
    ).start()


def start_node(settings: Settings, cluster: KafkaCluster, node: KafkaNode) -> ManagedProcess:
    """One node (a restart: the other two hold the quorum), ready once it answers."""
    proc = spawn_node(settings, cluster, node)
    proc.wait_until(lambda: _broker_ready(node.address), 180, "answering Kafka requests")
    return proc


def start_cluster(settings: Settings, cluster: KafkaCluster) -> list[ManagedProcess]:
    """All three at once: a node alone has no quorum and never becomes ready."""
    procs: list[ManagedProcess] = []
    try:
        # Formatting is a JVM start of its own per node: the three at once.
        with ThreadPoolExecutor(max_workers=NODES) as pool:
            list(pool.map(partial(prepare_node, settings, cluster), cluster.nodes))
        procs = [spawn_node(settings, cluster, node) for node in cluster.nodes]
        for proc, node in zip(procs, cluster.nodes, strict=True):
            proc.wait_until(partial(_broker_ready, node.address), 240, "answering Kafka")
    except BaseException:
        for proc in procs:
            proc.stop(grace=5)
        raise
    return procs


def node_starter(
    settings: Settings, cluster: KafkaCluster, node: KafkaNode
) -> Callable[[], ManagedProcess]:
    return lambda: start_node(settings, cluster, node)
