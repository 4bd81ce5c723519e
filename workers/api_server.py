"""The HTTP server process."""

from __future__ import annotations

from types import FrameType

import uvicorn

from api.main import create_app
from infra import shutdown
from infra.logs import uvicorn_log_config
from infra.settings import get_settings


class Server(uvicorn.Server):
    """uvicorn's server with a stop budget: a request or lifespan hook that hangs (a producer
    waiting for a broker that is gone) does not hold the process."""

    budget = 2.5

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        shutdown.arm(self.budget, "api")
        super().handle_exit(sig, frame)


def main() -> None:
    settings = get_settings()
    shutdown.early_handlers(settings.stop_budget, "api")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        timeout_graceful_shutdown=max(1, int(settings.stop_budget) - 1),
        log_config=uvicorn_log_config(),  # no tracking codes or tokens in the access log
    )
    server = Server(config)
    server.budget = settings.stop_budget
    server.run()  # re-raises the stop signal at the end: the early handler exits then


if __name__ == "__main__":
    main()
