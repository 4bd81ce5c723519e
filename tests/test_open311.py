"""Open311 GeoReport v2 on the running stack, read with a third-party client from PyPI
(`georeport`, JSON and XML) and written with plain form posts as the spec describes."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET

import httpx
from georeport import GeoReport

from tests.auth import Tokens
from tests.polling import wait_for_case
from workers.stack import Stack


def request_form(api_key: str, **overrides: str) -> dict[str, str]:
    form = {
        "api_key": api_key,
        "service_code": "prepayment",
        "attribute[town]": "street-dashizi",
        "attribute[institution_name]": f"大十字街道童心托育{uuid.uuid4().hex[:4]}",
        "description": "机构要求一次性预交半年保育费。",
        "address_string": "凯里市大十字街道北京东路",
        "lat": "26.5668",
        "long": "107.9808",
        "first_name": "女士",
        "last_name": "李",
        "phone": "139 0000 1111",
    }
    form.update(overrides)
    return form


async def test_a_request_from_an_open311_client_becomes_a_case(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    client = GeoReport(base)
    services = await asyncio.to_thread(client.get_service_list)
    codes = {s["service_code"] for s in services}
    assert {"child-abuse", "prepayment", "food-safety"} <= codes
    assert "banned-person" not in codes and "video-alarm" not in codes
    definition = await asyncio.to_thread(client.get_service_definition, "prepayment")
    town = next(a for a in definition["attributes"] if a["code"] == "town")
    # Not required: a client that sends lat/long has its town looked up.
    assert not town["required"]
    assert {"key": "street-dashizi", "name": "大十字街道办事处"} in town["values"]

    key = tokens.token("operator")
    posted = await http.post(f"{base}/requests.json", data=request_form(key))
    assert posted.status_code == 200, posted.text
    created = posted.json()[0]
    case_id = created["service_request_id"]
    case = await wait_for_case(http, case_id, status="dispatched")
    assert (case["channel"], case["category"], case["handler"]) == (
        "open311",
        "prepayment",
        "street-dashizi",
    )
    assert "北京东路" in case["description"]

    single = await asyncio.to_thread(client.get_service_request, case_id)
    assert single["service_request_id"] == case_id and single["status"] == "open"
    assert single["agency_responsible"] == "大十字街道办事处"
    assert "description" not in single  # public status only
    listed = await asyncio.to_thread(
        client.get_service_requests, service_code="prepayment", status="open"
    )
    assert case_id in {r["service_request_id"] for r in listed}
    by_id = await asyncio.to_thread(client.get_service_requests, service_request_id=case_id)
    assert [r["service_request_id"] for r in by_id] == [case_id]
    token = await http.get(f"{base}/tokens/{created['token']}.json")
    assert token.json() == [{"service_request_id": case_id, "token": created["token"]}]

    # The same through XML.
    xml_client = GeoReport(base, output_format="xml")
    xml_services = await asyncio.to_thread(xml_client.get_service_list)
    assert "prepayment" in {s["service_code"] for s in xml_services}
    xml_request = await asyncio.to_thread(xml_client.get_service_request, case_id)
    assert xml_request["service_request_id"] == case_id and xml_request["status"] == "open"
    posted_xml = await http.post(f"{base}/requests.xml", data=request_form(key))
    assert posted_xml.status_code == 200
    root = ET.fromstring(posted_xml.content)
    assert root.tag == "service_requests" and root.find("request/service_request_id") is not None


async def test_open311_errors_as_the_spec_says(stack: Stack, tokens: Tokens) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    key = tokens.token("operator")
    nowhere = request_form(key, **{"attribute[town]": "atlantis"})
    silent = request_form(key, description="", address_string="", lat="", long="")
    long_ago, today = "2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        cases = [
            ("post", "/requests.json", request_form("wrong"), 403, "api_key"),
            ("post", "/requests.json", request_form(tokens.token("auditor")), 403, "api_key"),
            ("post", "/requests.json", request_form(key, service_code="aliens"), 404, "aliens"),
            ("post", "/requests.json", nowhere, 400, "不是本市镇"),
            ("post", "/requests.json", silent, 400, "description（问题描述）不能为空"),
            ("post", "/requests.json", request_form(key, phone="call me"), 400, "phone（电话）"),
            ("get", "/services/banned-person.json", None, 404, "未找到"),
            ("get", "/requests/TY00000000-NOPE.json", None, 404, "未找到"),
            ("get", "/tokens/nope.json", None, 404, "未找到"),
            ("get", "/services.yaml", None, 400, "json 或 xml"),
            ("get", f"/requests.json?start_date={long_ago}&end_date={today}", None, 400, "90 天"),
            ("get", "/requests.json?status=pending", None, 400, "open 或 closed"),
            ("get", "/requests.json?start_date=yesterday", None, 400, "W3C"),
        ]  # fmt: skip
        for method, path, form, status, words in cases:
            response = await client.request(method, path, data=form)
            assert response.status_code == status, (path, response.text)
            errors = response.json()
            assert errors[0]["code"] == status and words in errors[0]["description"], errors
        bad_bytes = await client.post(
            "/requests.json",
            content=b"api_key=\xff\xfe",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert bad_bytes.status_code == 400
        xml_error = await client.get("/requests/TY00000000-NOPE.xml")
        assert xml_error.status_code == 404
        root = ET.fromstring(xml_error.content)
        assert root.tag == "errors" and root.findtext("error/code") == "404"
