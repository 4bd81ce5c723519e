"""Crafted input found at the edges by an outside test of the running stack: invisible
characters in names (the ban registry showed a banned person's name reversed by U+202E), a
JSON key given twice (read as its last value), a flag given as "yes" (taken as true), a
full-width phone refused without saying why, error messages naming fields in English or a
JSON offset as a field, and persons named in a result that bans nobody (dropped silently)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from pydantic import ValidationError
from starlette.requests import Request

from api.open311 import form
from api.open311.formats import Open311Error
from models.cases import CaseStatus, Outcome
from models.complaints import Category, Complainant
from models.people import PersonIdentity
from models.workflow_io import CaseState
from tests.factories import complaint_payload
from workflows.cases import rules

ID = "522601199001010010"


@pytest.mark.parametrize("name", ["\u202e四李", "李\u200b四", "\ufeff李四", "李\u2066四"])
def test_a_persons_name_with_an_invisible_character_is_refused(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PersonIdentity.model_validate({"id_number": ID, "name": name})
    assert raised.value.errors()[0]["type"] == "format_character"
    assert PersonIdentity.model_validate({"id_number": ID, "name": "李四"}).name == "李四"


def test_a_full_width_phone_is_folded_and_a_phone_without_digits_refused() -> None:
    assert Complainant(phone="１３８００１３８０００").phone == "13800138000"
    assert Complainant(phone="+86 138-0013-8000").phone == "+86 138-0013-8000"
    for bad in ("---", "   ", "１２", "138\u200b0013"):
        with pytest.raises(ValidationError) as raised:
            Complainant(phone=bad)
        assert raised.value.errors()[0]["type"] == "phone_number"


def test_persons_are_named_only_in_a_substantiated_abuse_result() -> None:
    abuse = CaseState(case_id="c", category=Category.CHILD_ABUSE, status=CaseStatus.ACCEPTED)
    other = CaseState(case_id="c", category=Category.OTHER, status=CaseStatus.ACCEPTED)
    assert rules.persons_named(abuse, Outcome.SUBSTANTIATED, 1) is None
    assert rules.persons_named(abuse, Outcome.PARTLY_SUBSTANTIATED, 2) is None
    assert rules.persons_named(other, Outcome.SUBSTANTIATED, 0) is None
    for state, outcome in ((other, Outcome.SUBSTANTIATED), (abuse, Outcome.UNSUBSTANTIATED)):
        refusal = rules.persons_named(state, outcome, 1)
        assert refusal is not None and refusal.status == 422 and "当事人" in refusal.message


async def test_an_open311_field_sent_twice_with_two_values_is_refused() -> None:
    body = b"service_code=x&description=a&description=b"

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    request = Request({"type": "http", "method": "POST", "headers": headers}, receive)
    with pytest.raises(Open311Error) as raised:
        await form.read(request, "json")
    assert raised.value.status == 400 and "description" in raised.value.description
    same = b"service_code=x&description=a&description=a"

    async def again() -> dict[str, object]:
        return {"type": "http.request", "body": same, "more_body": False}

    fields = await form.read(Request({**request.scope}, again), "json")
    assert fields.get("description") == "a"


async def test_crafted_bodies_are_refused_in_chinese(http: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    body = complaint_payload(event_id=f"crafted-name-{run}")
    body["complainant"] = {"name": "\u202e三张", "phone": "13800138000"}
    response = await http.post("/api/v1/complaints", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["type"] == "format_character"
    assert "姓名（complainant.name）" in error["message"] and "不可见" in error["message"]

    # The same key twice: refused, not read as its last value.
    raw = json.dumps(complaint_payload(event_id=f"crafted-dup-{run}", category="child-abuse"))
    raw = raw.replace(
        '"category": "child-abuse"', '"category": "child-abuse", "category": "injury"'
    )
    response = await http.post(
        "/api/v1/complaints", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["type"] == "duplicate_key"
    assert "问题类别（category）" in error["message"] and "不止一次" in error["message"]

    response = await http.post(
        "/api/v1/complaints",
        json=complaint_payload(event_id=f"crafted-flag-{run}", anonymous="yes"),
    )
    assert response.status_code == 422, response.text
    assert "是否匿名（anonymous）" in response.json()["error"]["message"]

    body = complaint_payload(event_id=f"crafted-phone-{run}")
    body["complainant"] = {"phone": "---"}
    message = (await http.post("/api/v1/complaints", json=body)).json()["error"]["message"]
    assert "联系电话（complainant.phone）" in message and "至少3位数字" in message

    truncated = '{"category":"child-abuse"'
    response = await http.post(
        "/api/v1/complaints", content=truncated, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "请求内容不是有效的 JSON（第 25 个字符处）" in message, message

    response = await http.post("/api/v1/session", json={"name": "someone"})
    assert response.status_code == 422, response.text
    assert "密码（password）缺少必填项" in response.json()["error"]["message"]
