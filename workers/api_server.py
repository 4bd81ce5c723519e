"""The HTTP server process."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from infra.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
