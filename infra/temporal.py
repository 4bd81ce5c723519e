"""Connecting to Temporal with the data converter every tuoyu process shares."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from infra.codec import data_converter
from infra.settings import Settings
from infra.vault import load_vault

log = logging.getLogger(__name__)


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        # Every payload encrypted (infra/codec.py), on every client and worker alike.
        data_converter=data_converter(load_vault(settings)),
        runtime=runtime,
        tls=tls_config(settings),
        api_key=api_key.get_secret_value() if api_key else None,
    )


async def connect_when_up(settings: Settings, runtime: Runtime | None = None) -> Client:
    """`connect`, waiting for a server that is not up yet (started together with it, or
    restarted meanwhile): a worker that gave up at once stayed dead in the cluster leg when
    it was started while the Temporal server restarted."""
    delay = 0.5
    while True:
        try:
            return await connect(settings, runtime)
        except RuntimeError as exc:  # the bridge's "Failed client connect"
            log.warning("Temporal at %s not reachable (%s); retrying in %.1fs",
                        settings.temporal_address, exc, delay)  # fmt: skip
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS when a CA or a client certificate is configured (or an API key, which needs it)."""
    if not (settings.temporal_tls_ca or settings.temporal_tls_cert or settings.temporal_api_key):
        return False

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path is not None else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca),
        client_cert=read(settings.temporal_tls_cert),
        client_private_key=read(settings.temporal_tls_key),
    )


def runtime_with_metrics(settings: Settings) -> Runtime:
    """A Temporal runtime that serves the SDK's metrics for Prometheus."""
    address = f"{settings.http_host}:{settings.temporal_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
