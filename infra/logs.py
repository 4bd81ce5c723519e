"""Logging set-up shared by tuoyu's processes."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # kafka-python logs every connection at INFO; keep its warnings only.
    logging.getLogger("kafka").setLevel(logging.WARNING)


# Query parameters and path parts that carry secrets: a caller's tracking code, Open311
# api keys and request tokens, bearer tokens some clients put in the URL.
SECRET_PARAMS = ("code", "api_key", "token", "access_token", "tracking_code")
_SECRET_QUERY = re.compile(r"(?i)(?<=[?&])(" + "|".join(SECRET_PARAMS) + r")=[^&#\s]*")
_SECRET_PATH = re.compile(r"(?<=/tokens/)[^/?#\s.]+")


def redact_url(url: str) -> str:
    return _SECRET_PATH.sub("***", _SECRET_QUERY.sub(r"\1=***", url))


class RedactAccessLog(logging.Filter):
    """uvicorn's access log record: (client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with secrets kept out of the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactAccessLog}
    config["handlers"]["access"].setdefault("filters", []).append("redact")
    return config
