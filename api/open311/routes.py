"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are the complaint
categories a member of the public may report; a request becomes a complaint on
`tuoyu.complaints` with the channel `open311` (api/open311/requests.py); the updates feed
FixMyStreet polls is api/open311/updates.py.

Privacy: GET requests lists only requests made through Open311, and only their public status
(service, status, status notes, responsible agency, times), never the description, the
institution or the reporter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.open311 import requests, updates
from api.open311.common import category, check_format, jurisdiction_query, services
from api.open311.formats import render
from infra import reference

router = APIRouter(
    prefix="/open311/v2", tags=["open311"], dependencies=[Depends(jurisdiction_query)]
)
router.include_router(requests.router)
router.include_router(updates.router)
CHANGESET = "2026-12-01T00:00:00+08:00"  # when the endpoints below last changed


def _towns() -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in reference.units().values() if u.kind.is_jurisdiction]


@router.get("/discovery.{fmt}", summary="Service Discovery")
def discovery(fmt: str, request: Request) -> Response:
    fmt = check_format(fmt)
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    return render(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": "凯里市12345政务服务便民热线中心（电话 12345）",
            "key_service": "api_key 为 `tuoyu users add` 发放的令牌，由系统管理员发放",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@router.get("/services.{fmt}", summary="GET Service List")
def service_list(fmt: str) -> Response:
    fmt = check_format(fmt)
    return render(
        fmt,
        "services",
        [
            {
                "service_code": code.value,
                "service_name": info.name,
                "description": f"投诉举报：{info.name}",
                "metadata": True,
                "type": "realtime",
                "keywords": "托育,投诉",
                "group": "托育机构监管",
            }
            for code, info in services().items()
        ],
    )


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition")
def service_definition(service_code: str, fmt: str) -> Response:
    fmt = check_format(fmt)
    found = category(service_code, fmt)
    attributes: list[dict[str, Any]] = [
        {
            "variable": True,
            "code": "town",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "机构所在镇（街道、园区）；给出经纬度（lat、long）时可不填",
            "order": 1,
            "description": "机构所在镇（街道、园区）",
            "values": [{"key": code, "name": name} for code, name in _towns()],
        },
        {
            "variable": True,
            "code": "institution_name",
            "datatype": "string",
            "required": False,
            "datatype_description": "托育机构名称",
            "order": 2,
            "description": "被投诉的托育机构名称",
        },
        {
            "variable": True,
            "code": "anonymous",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "是否匿名",
            "order": 3,
            "description": "匿名举报不回访",
            "values": [{"key": "false", "name": "实名"}, {"key": "true", "name": "匿名"}],
        },
    ]
    return render(
        fmt,
        "service_definition",
        {"service_code": found.value, "attributes": attributes},
    )
