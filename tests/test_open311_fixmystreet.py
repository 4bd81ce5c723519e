"""Open311 as FixMyStreet's client sends and reads it (mysociety/fixmystreet
perllib/Open311.pm and Open311/GetServiceRequestUpdates.pm), on the running stack: the exact
form fields of `_populate_service_request_params` (lat/long always, no town), the XML read
the way its XML::Simple call reads it (ForceArray on the list elements, `request->[0]`), and
the updates feed it polls with api_key, start_date, end_date and jurisdiction_id."""

from __future__ import annotations

import asyncio
import json
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests
from georeport import GeoReport

from models import topics
from tests.auth import Tokens
from tests.kafka_reader import TopicReader
from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack

JURISDICTION = "kaili.gov.cn"
# XML::Simple(ForceArray => [values %$group_tags]) in Open311::_get_xml_object.
FORCE_ARRAY = {"service", "attribute", "value", "request", "error", "request_update", "group"}


def simple(xml: bytes) -> dict[str, Any]:
    """What XML::Simple gives FixMyStreet: the root's children by name, the group tags as
    lists, an empty element as None (SuppressEmpty => undef)."""

    def value(element: ET.Element) -> Any:
        if len(element) == 0:
            return element.text if element.text else None
        out: dict[str, Any] = {}
        for child in element:
            if child.tag in FORCE_ARRAY:
                out.setdefault(child.tag, []).append(value(child))
            else:
                out[child.tag] = value(child)
        return out

    result = value(ET.fromstring(xml))
    return result if isinstance(result, dict) else {}


def w3c(moment: datetime) -> str:
    """DateTime::Format::W3CDTF->format_datetime of a UTC DateTime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fixmystreet_form(api_key: str, lat: str, long: str, **extra: str) -> dict[str, str]:
    """_populate_service_request_params with the defaults (always_send_latlong,
    extended_description outside the UK: title, detail, url) and _request's additions."""
    title, detail = "托育机构要求预交半年费用", "收费处要求一次性交六个月保育费，不交不让入托。"
    report = f"https://fixmystreet.example/report/{uuid.uuid4().int % 10**6}"
    form = {
        "description": f"{title}\n\n{detail}\n\n{report}\n",
        "service_code": "prepayment",
        "first_name": "Li",
        "last_name": "Mei",
        "email": f"li.mei.{uuid.uuid4().hex[:6]}@example.org",
        "lat": lat,
        "long": long,
        "media_url": f"{report}/photo/0.full.jpeg",
        "jurisdiction_id": JURISDICTION,
        "api_key": api_key,
    }
    form.update(extra)
    return form


def post(base: str, form: dict[str, str]) -> httpx.Response:
    body = urlencode(form).encode()  # HTTP::Request::Common POST: urlencoded UTF-8
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return httpx.post(f"{base}/requests.xml", content=body, headers=headers, timeout=30)


async def updates(base: str, api_key: str, since: datetime) -> list[dict[str, Any]]:
    params = {
        "api_key": api_key,
        "start_date": w3c(since),
        "end_date": w3c(datetime.now(UTC) + timedelta(minutes=1)),
        "jurisdiction_id": JURISDICTION,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"{base}/servicerequestupdates.xml", params=params)
    assert answer.status_code == 200, answer.text
    return simple(answer.content).get("request_update") or []


async def test_a_fixmystreet_report_with_only_lat_long_becomes_a_case_in_its_town(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Done when: a FixMyStreet-shaped request with only lat/long becomes a case in the
    right town and its update appears on the updates feed."""
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    town = tokens.headers("town", "street-dashizi")
    key = town["Authorization"].removeprefix("Bearer ")  # a town office's own FixMyStreet
    since = datetime.now(UTC) - timedelta(seconds=5)
    form = fixmystreet_form(key, lat="26.566800", long="107.980800")
    answer = await asyncio.to_thread(post, base, form)
    assert answer.status_code == 200, answer.text
    obj = simple(answer.content)
    case_id = obj["request"][0]["service_request_id"]  # as send_service_request reads it
    assert case_id and obj["request"][0]["token"]

    case = await wait_for_case(http, case_id, status="dispatched")
    assert (case["town"], case["handler"], case["channel"]) == (
        "street-dashizi",
        "street-dashizi",
        "open311",
    )
    assert form["media_url"] in case["description"] and "26.566800" in case["description"]

    # The reporter's contact is sealed like a hotline caller's: the unit on the case reads it
    # (every view audited); the topic carries ciphertext only.
    contact = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=town)
    assert contact.status_code == 200, contact.text
    assert (contact.json()["email"], contact.json()["name"]) == (form["email"], "Li Mei")
    token = obj["request"][0]["token"]
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.COMPLAINTS)
    try:
        event = json.loads(
            (
                await reader.wait_for(
                    # The inbound topic also carries other tests' malformed events.
                    lambda r: (
                        token.encode() in r.value and json.loads(r.value).get("event_id") == token
                    )
                )
            )[0].value
        )
    finally:
        reader.close()
    assert event["complainant"] is None and event["complainant_sealed"]["ciphertext"]
    assert form["email"] not in json.dumps(event)

    # The town works the case; FixMyStreet's poll sees each step, the answer included.
    for action, body in [
        ("accept", {"note": "已安排核查"}),
        ("result", {"outcome": "substantiated", "findings": "已责令退还多收费用并整改"}),
    ]:
        done = await http.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=town)
        assert done.status_code == 200, (action, done.text)

    seen: list[dict[str, Any]] = []

    async def fixed() -> bool:
        seen[:] = [u for u in await updates(base, key, since) if u["service_request_id"] == case_id]
        return "FIXED" in {u["status"] for u in seen}

    assert await eventually_async(fixed), seen
    assert [u["status"] for u in seen] == ["OPEN", "IN_PROGRESS", "FIXED"]
    for update in seen:
        assert update["update_id"] and update["updated_datetime"] and update["description"]
        assert datetime.fromisoformat(update["updated_datetime"]) >= since
    assert "大十字街道办事处" in seen[0]["description"]
    assert "已责令退还多收费用" in seen[2]["description"]
    assert len({u["update_id"] for u in seen}) == 3

    # Without a key the feed still answers, with the public texts only.
    async with httpx.AsyncClient(timeout=30) as client:
        public = await client.get(
            f"{base}/servicerequestupdates.json",
            params={
                "start_date": w3c(since),
                "end_date": w3c(datetime.now(UTC) + timedelta(minutes=1)),
            },
        )
    mine = [u for u in public.json() if u["service_request_id"] == case_id]
    assert [u["status"] for u in mine] == ["OPEN", "IN_PROGRESS", "FIXED"]
    assert all("退还" not in u["description"] for u in mine)

    # Read back with the georeport client, naming the jurisdiction.
    client = GeoReport(base, jurisdiction=JURISDICTION)
    single = await asyncio.to_thread(client.get_service_request, case_id)
    assert single["agency_responsible"] == "大十字街道办事处"
    assert single["media_url"] == form["media_url"]
    wrong = GeoReport(base, jurisdiction="elsewhere.example")
    with pytest.raises(requests.HTTPError) as refused:
        await asyncio.to_thread(wrong.get_service_request, case_id)
    assert refused.value.response is not None and refused.value.response.status_code == 400


async def test_a_fixmystreet_retry_after_a_lost_answer_is_the_same_case(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """FixMyStreet sends a report again when it did not read the answer: the same form from
    the same client is the same case and token, the case opened once; a different report
    from the same client is a case of its own."""
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    key = tokens.token("town", "street-dashizi")
    form = fixmystreet_form(key, lat="26.566800", long="107.980800")
    answers = await asyncio.gather(*(asyncio.to_thread(post, base, form) for _ in range(3)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    given = {
        (r["service_request_id"], r["token"]) for a in answers for r in simple(a.content)["request"]
    }
    assert len(given) == 1, given
    [(case_id, _)] = given
    await wait_for_case(http, case_id, status="dispatched")
    other = fixmystreet_form(key, lat="26.566800", long="107.980800")  # another report URL
    answer = await asyncio.to_thread(post, base, other)
    assert simple(answer.content)["request"][0]["service_request_id"] != case_id
    async with httpx.AsyncClient(timeout=30) as client:
        listed = (await client.get(f"{base}/requests/{case_id}.json")).json()
    assert [r["service_request_id"] for r in listed] == [case_id]


async def test_a_place_in_no_town_is_held_for_the_hotline_centre(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    key = tokens.token("operator")
    since = datetime.now(UTC) - timedelta(seconds=5)
    outside = fixmystreet_form(key, lat="39.904200", long="116.407400")  # Beijing
    address_only = fixmystreet_form(key, lat="", long="", address_string="凯里市某小区三栋")
    ids, tokens_given = [], []
    for form in (outside, address_only):
        answer = await asyncio.to_thread(post, base, form)
        assert answer.status_code == 200, answer.text
        request = simple(answer.content)["request"][0]
        assert "12345热线中心人工分派" in request["service_notice"]
        ids.append(request["service_request_id"])
        tokens_given.append(request["token"])

    async with httpx.AsyncClient(timeout=30) as client:
        shown = (await client.get(f"{base}/requests/{ids[0]}.json")).json()[0]
        token = (await client.get(f"{base}/tokens/{tokens_given[1]}.xml")).content
    assert shown["status"] == "open" and shown["agency_responsible"].startswith("凯里市12345")
    assert simple(token)["request"][0]["service_request_id"] == ids[1]
    held = (await http.get("/api/v1/open311/held")).json()
    waiting = {h["service_request_id"]: h for h in held}
    assert set(ids) <= set(waiting)
    assert waiting[ids[1]]["address_string"] == "凯里市某小区三栋"
    assert waiting[ids[0]]["lat"] == pytest.approx(39.9042)
    town_view = await http.get(
        "/api/v1/open311/held", headers=tokens.headers("town", "town-zhouxi")
    )
    assert town_view.status_code == 403

    dispatched = await http.post(
        f"/api/v1/open311/held/{ids[1]}/dispatch", json={"town": "town-zhouxi"}
    )
    assert dispatched.status_code == 200, dispatched.text
    case = await wait_for_case(http, ids[1], status="dispatched")
    assert (case["handler"], case["channel"]) == ("town-zhouxi", "open311")
    again = await http.post(f"/api/v1/open311/held/{ids[1]}/dispatch", json={"town": "town-bibo"})
    assert again.status_code == 409 and "已分派" in again.json()["error"]["message"]
    nowhere = await http.post(f"/api/v1/open311/held/{ids[0]}/dispatch", json={"town": "hotline"})
    assert nowhere.status_code == 422

    steps: list[tuple[str, str, str]] = []

    async def both_steps() -> bool:
        feed = await updates(base, key, since)
        steps[:] = [
            (u["service_request_id"], u["status"], u["description"])
            for u in feed
            if u["service_request_id"] in ids
        ]
        return len([s for s in steps if s[0] == ids[1]]) == 2

    assert await eventually_async(both_steps), steps
    assert [s[:2] for s in steps if s[0] == ids[0]] == [(ids[0], "OPEN")]
    held_step, dispatched_step = [s for s in steps if s[0] == ids[1]]
    assert "热线中心人工分派" in held_step[2] and "舟溪镇人民政府" in dispatched_step[2]


async def test_bad_open311_input_gets_a_chinese_400(stack: Stack, tokens: Tokens) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    key = tokens.token("town", "town-lushan")
    good = fixmystreet_form(key, lat="26.69", long="107.885")
    cases = [
        ({"jurisdiction_id": "london.gov.uk"}, 400, "jurisdiction_id"),
        ({"lat": "26.69", "long": ""}, 400, "lat 和 long"),
        ({"lat": "north", "long": "107.9"}, 400, "十进制"),
        ({"lat": "126.0"}, 400, "-90"),
        ({"email": "not an address"}, 400, "email（电子邮箱）格式不正确"),
        ({"media_url": "ftp://example.org/a.jpg"}, 400, "media_url"),
        ({"description": ""}, 400, "description（问题描述）不能为空"),
        ({"lat": "", "long": ""}, 400, "请提供位置"),
        ({"attribute[town]": "atlantis"}, 400, "attribute[town]"),
        ({"phone": "call me"}, 400, "phone（电话）格式不正确"),
        ({"first_name": "名" * 70}, 400, "过长"),
        ({"api_key": tokens.token("auditor")}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
    ]
    for change, status, words in cases:
        answer = await asyncio.to_thread(post, base, {**good, **change})
        assert answer.status_code == status, (change, answer.text)
        error = simple(answer.content)["error"][0]
        assert error["code"] == str(status) and words in error["description"], (change, error)
        assert "String should" not in error["description"]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for path, words in [
            ("/requests.json?page_size=0", "page_size"),
            ("/requests.json?page_size=1001", "page_size"),
            ("/requests.json?page=x", "page"),
            ("/servicerequestupdates.json?api_key=nope", "api_key"),
            ("/servicerequestupdates.json?start_date=yesterday", "W3C"),
            ("/services.json?jurisdiction_id=elsewhere", "jurisdiction_id"),
        ]:
            answer = await client.get(path)
            assert 400 <= answer.status_code < 500, (path, answer.text)
            assert words in answer.json()[0]["description"], (path, answer.text)
        # A town's token is accepted; the town comes from lat/long, not from the key.
        accepted = await asyncio.to_thread(post, base, good)
        assert accepted.status_code == 200, accepted.text
        # FixMyStreet posts multipart/form-data when it uploads photos: the fields are read.
        photo = {"photo1": ("1.0.full.jpeg", b"\xff\xd8\xff", "image/jpeg")}
        multipart = await client.post("/requests.xml", data=good, files=photo)
        assert multipart.status_code == 200, multipart.text
        assert simple(multipart.content)["request"][0]["service_request_id"]


async def test_discovery_and_paging(stack: Stack, tokens: Tokens) -> None:
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}/open311/v2"
    key = tokens.token("operator")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        found = (await client.get("/discovery.json")).json()
        assert found["endpoints"][0]["url"] == f"{base}/"
        assert "text/xml" in found["endpoints"][0]["formats"]
        xml = ET.fromstring((await client.get("/discovery.xml")).content)
        assert xml.tag == "discovery"
        assert xml.findtext("endpoints/endpoint/specification") == (
            "http://wiki.open311.org/GeoReport_v2"
        )
        assert [f.text for f in xml.findall("endpoints/endpoint/formats/format")] == [
            "text/xml",
            "application/json",
        ]
        posted = []
        for _ in range(3):
            answer = await asyncio.to_thread(post, base, fixmystreet_form(key, "26.48", "107.95"))
            posted.append(simple(answer.content)["request"][0]["service_request_id"])
        ids = ",".join(posted)

        async def all_cases() -> bool:
            answer = await client.get("/requests.json", params={"service_request_id": ids})
            return {r["service_request_id"] for r in answer.json()} == set(posted)

        assert await eventually_async(all_cases)
        pages = []
        for page in (1, 2, 3, 4):
            answer = await client.get(
                "/requests.json", params={"service_request_id": ids, "page": page, "page_size": 1}
            )
            pages.append([r["service_request_id"] for r in answer.json()])
    assert sorted(p[0] for p in pages[:3]) == sorted(posted) and pages[3] == []
