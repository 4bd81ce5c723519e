"""The Temporal server in its production form: the `server` binary built from its Go module,
persistence and SQL visibility on PostgreSQL (schemas set up with the module's SQL tool),
4 history shards, a configuration file written here.

`server start` runs all four services (frontend, history, matching, worker) in one process:
restarting that process is what restarting the frontend means on this topology.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from sqlalchemy import make_url

from infra.cluster import free_ports
from infra.process import ManagedProcess, ProcessFailed
from infra.servers import run_tool, temporal_healthy
from infra.settings import Settings
from models.search_attributes import CASE_SEARCH_ATTRIBUTES, KEYWORD

VERSION = "v1.32.2"
MODULE = "go.temporal.io/server"
# v1.32.2 needs Go 1.26.10 or later; the toolchain comes through the module proxy.
TOOLCHAIN = "go1.27.3"
HISTORY_SHARDS = 4
DATABASES = {"temporal": "temporal", "visibility": "temporal_visibility"}


def bin_dir(settings: Settings) -> Path:
    return settings.temporal_server_bin_dir or settings.data_dir / "bin"


NO_GO = "no `go` on PATH (install it from https://go.dev/dl/ into /usr/local/go)"


def ensure_server(settings: Settings) -> Path:
    """Build `server` and the SQL tool once with `go install` (GOBIN: the bin dir), and copy
    the PostgreSQL schemas beside them; later starts reuse all three."""
    target = bin_dir(settings)
    marker = target / f".temporal-{VERSION}"
    if marker.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    if shutil.which("go") is None:
        # Debian's golang-go (1.19) cannot fetch the newer toolchain the module asks for.
        raise RuntimeError(f"the cluster leg builds the Temporal server with Go >= 1.21: {NO_GO}")
    began = time.monotonic()
    env = {**os.environ, "GOBIN": str(target.resolve()), "GOTOOLCHAIN": TOOLCHAIN}
    packages = [f"{MODULE}/cmd/server@{VERSION}", f"{MODULE}/cmd/tools/sql@{VERSION}"]
    done = subprocess.run(
        ["go", "install", *packages], env=env, capture_output=True, text=True, errors="replace"
    )
    if done.returncode != 0:
        raise RuntimeError(f"go install {' '.join(packages)} failed:\n{done.stderr[-4000:]}")
    found = subprocess.run(
        ["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module_dir = Path(json.loads(found.stdout)["Dir"])
    schema = target / "temporal-schema"
    shutil.rmtree(schema, ignore_errors=True)
    # The module cache is read-only; the copy is made writable so a later build replaces it.
    shutil.copytree(module_dir / "schema" / "postgresql" / "v12", schema, copy_function=_copy)
    for folder in [schema, *(p for p in schema.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    marker.write_text(f"{MODULE}@{VERSION}\n")
    print(f"Temporal server {VERSION} built in {time.monotonic() - began:.0f}s into {target}")
    return target


def _copy(source: str, target: str) -> None:
    shutil.copyfile(source, target)


@dataclass(frozen=True)
class TemporalPorts:
    """Each service's gRPC and membership port, the frontend's HTTP port and metrics."""

    frontend: int
    frontend_membership: int
    frontend_http: int
    history: int
    history_membership: int
    matching: int
    matching_membership: int
    worker: int
    worker_membership: int
    metrics: int

    @classmethod
    def free(cls, frontend: int, taken: set[int] | None = None) -> TemporalPorts:
        return cls(frontend, *free_ports(9, {frontend, *(taken or ())}))

    def redrawn(self) -> TemporalPorts:
        """New internal ports, the same frontend (the address every client has)."""
        return TemporalPorts.free(self.frontend)


def setup_schema(settings: Settings) -> None:
    """Create the two databases and bring their schemas to the newest version; a database
    already there is updated only (the tool knows its version)."""
    url = make_url(settings.resolved_database_url)
    tool = str(bin_dir(settings) / "sql")
    schema = bin_dir(settings) / "temporal-schema"
    common = [
        tool,
        "--plugin",
        "postgres12",
        "--ep",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-u",
        url.username or "postgres",
    ]
    if url.password:
        common += ["--pw", url.password]
    for kind, database in DATABASES.items():
        at = [*common, "--db", database]
        run_tool([*at, "--quiet", "create-database"], f"creating {database}")
        versioned = subprocess.run(
            [*at, "update-schema", "-d", str(schema / kind / "versioned")],
            capture_output=True,
            text=True,
        )
        if versioned.returncode != 0:  # a new database: versioning tables first
            run_tool([*at, "setup-schema", "-v", "0.0"], f"versioning {database}")
            run_tool(
                [*at, "update-schema", "-d", str(schema / kind / "versioned")],
                f"updating {database}'s schema",
            )


def config_yaml(settings: Settings, ports: TemporalPorts) -> str:
    url = make_url(settings.resolved_database_url)
    host, _ = settings.temporal_host_port
    address = f"{url.host or '127.0.0.1'}:{url.port or 5432}"

    def store(database: str, conns: int) -> dict[str, object]:
        return {
            "sql": {
                "pluginName": "postgres12",
                "databaseName": database,
                "connectAddr": address,
                "connectProtocol": "tcp",
                "user": url.username or "postgres",
                "password": url.password or "",
                "maxConns": conns,
                "maxIdleConns": conns,
                "maxConnLifetime": "1h",
            }
        }

    def service(grpc: int, membership: int, **extra: int) -> dict[str, object]:
        return {"rpc": {"grpcPort": grpc, "membershipPort": membership, "bindOnIP": host, **extra}}

    config = {
        "log": {"stdout": True, "level": "warn"},
        "persistence": {
            "defaultStore": "postgres-default",
            "visibilityStore": "postgres-visibility",
            "numHistoryShards": HISTORY_SHARDS,
            "datastores": {
                "postgres-default": store(DATABASES["temporal"], 20),
                "postgres-visibility": store(DATABASES["visibility"], 4),
            },
        },
        "global": {
            "membership": {"maxJoinDuration": "30s", "broadcastAddress": host},
            "metrics": {
                "prometheus": {
                    "framework": "tally",
                    "timerType": "histogram",
                    "listenAddress": f"{host}:{ports.metrics}",
                }
            },
        },
        "services": {
            "frontend": service(
                ports.frontend, ports.frontend_membership, httpPort=ports.frontend_http
            ),
            "history": service(ports.history, ports.history_membership),
            "matching": service(ports.matching, ports.matching_membership),
            "worker": service(ports.worker, ports.worker_membership),
        },
        "clusterMetadata": {
            "enableGlobalNamespace": False,
            "failoverVersionIncrement": 10,
            "masterClusterName": "active",
            "currentClusterName": "active",
            "clusterInformation": {
                "active": {
                    "enabled": True,
                    "initialFailoverVersion": 1,
                    "rpcName": "frontend",
                    "rpcAddress": f"{host}:{ports.frontend}",
                }
            },
        },
        "dcRedirectionPolicy": {"policy": "noop"},
    }
    # JSON is YAML: no YAML library needed to write it.
    return json.dumps(config, indent=2)


def start_server_on_free_ports(
    settings: Settings, ports: TemporalPorts, attempts: int = 3
) -> tuple[ManagedProcess, TemporalPorts]:
    """Start the server; when one of its internal ports was taken meanwhile (free ports are
    drawn before the server binds them, and others draw from the same range), draw them
    again. Returns the process and the ports it runs on."""
    for attempt in range(attempts):
        try:
            return start_server(settings, ports), ports
        except ProcessFailed as exc:
            if "address already in use" not in str(exc) or attempt == attempts - 1:
                raise
            ports = ports.redrawn()
    raise AssertionError("unreachable")


def start_server(settings: Settings, ports: TemporalPorts) -> ManagedProcess:
    """Start the server on its schema; ready once the namespace and the cases' search
    attributes are there (registered on the first start)."""
    home = settings.data_dir / "temporal-server"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.yaml"
    config.write_text(config_yaml(settings, ports))
    proc = ManagedProcess(
        "temporal",
        [
            str(bin_dir(settings) / "server"),
            "--config-file",
            str(config.resolve()),
            "--allow-no-auth",
            "start",
        ],
        settings.data_dir / "logs" / "temporal-server.log",
        cwd=home,
        grace=settings.stop_budget + 5,
    ).start()
    proc.wait_until(lambda: temporal_healthy(settings), 180, "serving")
    proc.wait_until(lambda: asyncio.run(_namespace_ready(settings)), 120, "holding the namespace")
    return proc


async def _namespace_ready(settings: Settings) -> bool:
    """Register the namespace (first start) and the cases' search attributes on it (SQL
    visibility keeps them per namespace); true once both are listed."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
    from temporalio.client import Client
    from temporalio.service import RPCError, RPCStatusCode

    namespace = settings.temporal_namespace
    client = await Client.connect(settings.temporal_address, namespace=namespace)
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace,
                workflow_execution_retention_period=_duration(timedelta(days=7)),
            )
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    kinds = {
        name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        if kind == KEYWORD
        else IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
        for name, kind in CASE_SEARCH_ATTRIBUTES.items()
    }
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    if set(kinds) <= set(listed.custom_attributes):
        return True
    # Fails with NotFound until the frontend's namespace cache (refreshed every ~10 s) has
    # the new namespace: the caller polls.
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=namespace, search_attributes=kinds)
    )
    return False


def _duration(delta: timedelta) -> Duration:
    duration = Duration()
    duration.FromTimedelta(delta)
    return duration
