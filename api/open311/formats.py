"""GeoReport v2 responses in JSON or XML, and its error format."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

FORMATS = ("json", "xml")
# The element names of lists in GeoReport v2 XML: container -> item.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """Answered as the spec says: a list of {code, description} with the HTTP status."""

    def __init__(self, status: int, description: str, fmt: str = "json") -> None:
        self.status, self.description, self.fmt = status, description, fmt


def _xml(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = ET.SubElement(parent, key)
            if isinstance(item, list):
                for entry in item:
                    _xml(ET.SubElement(child, ITEMS.get(key, "item")), entry)
            else:
                _xml(child, item)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def render(fmt: str, root: str, items: list[dict[str, Any]] | dict[str, Any]) -> Response:
    """`items` under `root` (XML) or as they are (JSON)."""
    if fmt == "json":
        return JSONResponse(items)
    element = ET.Element(root)
    if isinstance(items, list):
        for item in items:
            _xml(ET.SubElement(element, ITEMS[root]), item)
    else:
        _xml(element, items)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8")
    return Response(body, media_type="text/xml; charset=utf-8")


def error_response(exc: Open311Error) -> Response:
    errors = [{"code": exc.status, "description": exc.description}]
    response = render(exc.fmt if exc.fmt in FORMATS else "json", "errors", errors)
    response.status_code = exc.status
    return response


def install(app: Any) -> None:
    @app.exception_handler(Open311Error)
    async def _open311_error(_: Request, exc: Open311Error) -> Response:
        return error_response(exc)
