"""The faust stream worker process."""

from __future__ import annotations

import faust
import prometheus_client

import streams.camera
import streams.inspections
import streams.intake
import streams.registry  # noqa: F401  (these register the agents on the app)
from infra import shutdown
from infra.settings import get_settings
from streams.app import app


class Worker(faust.Worker):
    """faust's worker with a stop budget: it took 16 s to stop on SIGINT and hung on
    SIGTERM while an agent crash-looped (measured)."""

    budget = 2.5

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()
        shutdown.backstop(self.budget, "stream-worker")


def main() -> None:
    settings = get_settings()
    shutdown.early_handlers(settings.stop_budget, "stream-worker")
    prometheus_client.start_http_server(settings.stream_metrics_port, addr=settings.http_host)
    worker = Worker(app, loglevel=settings.log_level.lower())
    worker.budget = settings.stop_budget
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
