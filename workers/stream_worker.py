"""The faust stream worker process."""

from __future__ import annotations

import faust
import prometheus_client

import streams.camera
import streams.inspections
import streams.intake
import streams.registry  # noqa: F401  (these register the agents on the app)
from infra.settings import get_settings
from streams.app import app


def main() -> None:
    settings = get_settings()
    prometheus_client.start_http_server(settings.stream_metrics_port, addr=settings.http_host)
    worker = faust.Worker(app, loglevel=settings.log_level.lower())
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
