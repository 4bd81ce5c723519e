"""Connecting to Temporal with the data converter every tuoyu process shares."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )


def runtime_with_metrics(settings: Settings) -> Runtime:
    """A Temporal runtime that serves the SDK's metrics for Prometheus."""
    address = f"{settings.http_host}:{settings.temporal_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
