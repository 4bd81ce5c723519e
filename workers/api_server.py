"""The HTTP server process."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from infra.logs import uvicorn_log_config
from infra.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        log_config=uvicorn_log_config(),  # no tracking codes or tokens in the access log
    )


if __name__ == "__main__":
    main()
