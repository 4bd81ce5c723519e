"""Every endpoint with every role, on the running stack: who gets 403, who gets through, and
nothing leaks to those refused (in lists, searches, exports or error messages). The table
must name every route of the OpenAPI document, so a new endpoint cannot go unchecked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlmodel import Session

from infra.db import make_engine
from models.credit import credit_entry_id
from models.institutions import Institution, Registrar
from tests.auth import Tokens
from tests.factories import complaint_payload
from tests.polling import wait_for_case
from workers.stack import Stack

ROLES: dict[str, tuple[str, str | None]] = {
    "operator": ("operator", None),
    "town": ("town", "town-lushan"),  # the case's town, its handler
    "other-town": ("town", "town-wanchao"),
    "lead": ("department", "health"),  # the category's lead department
    "other-dept": ("department", "samr"),
    "office": ("leading-office", "leading-office"),
    "auditor": ("auditor", None),
    "admin": ("admin", None),
}
EVERYONE = frozenset(ROLES)
INSTITUTION = f"KL-ROLES-{uuid.uuid4().hex[:6]}"  # registered in town-lushan by the test
CASE_READERS = EVERYONE - {"other-town", "other-dept"}
PHONE = {"phone": "13800000000"}


@dataclass
class Rule:
    method: str
    path: str  # as in the OpenAPI document
    allowed: frozenset[str]  # roles that must not get 403
    params: dict[str, str] = field(default_factory=dict)
    # The codes a refused role may get: the route's `forbidden`, or the workflow's own 403
    # when only it knows (who the case's handler is).
    refused: frozenset[str] = frozenset({"forbidden"})


def rules() -> list[Rule]:
    reads = [
        Rule("GET", "/api/v1/cases", EVERYONE),
        Rule("GET", "/api/v1/cases/{case_id}", CASE_READERS),
        Rule("GET", "/api/v1/cases/{case_id}/state", CASE_READERS),
        Rule("GET", "/api/v1/cases/{case_id}/history", CASE_READERS),
        Rule("GET", "/api/v1/cases/{case_id}/complainant", frozenset({"operator", "town"})),
        Rule("GET", "/api/v1/cases/{case_id}/enforcement", CASE_READERS),
        Rule("GET", "/api/v1/credit/{entry_id}", CASE_READERS),
        Rule("GET", "/api/v1/credit-tiers", EVERYONE),
        Rule("GET", "/api/v1/units", EVERYONE),
        Rule(
            "GET", "/api/v1/units/{code}/records", EVERYONE - {"other-town", "lead", "other-dept"}
        ),
        Rule("GET", "/api/v1/me", EVERYONE),
        Rule("GET", "/api/v1/catalogue", EVERYONE),
        Rule("GET", "/api/v1/statistics", EVERYONE),
        Rule("GET", "/api/v1/statistics/timeline", EVERYONE),
        Rule("GET", "/api/v1/statistics/targets", EVERYONE),
        Rule("GET", "/api/v1/bans", frozenset({"lead", "office", "auditor", "admin"})),
        Rule("GET", "/api/v1/audit", frozenset({"office", "auditor", "admin"})),
        Rule("GET", "/api/v1/audit/{seq}/proof", frozenset({"office", "auditor", "admin"})),
        Rule(
            "GET",
            "/api/v1/audit/consistency",
            frozenset({"office", "auditor", "admin"}),
            {"first": "1", "second": "1"},
        ),
        # Every role reads an institution's file (the public view or the whole), a town only
        # of its own institutions.
        Rule("GET", "/api/v1/institutions/{institution_id}/integrity", EVERYONE - {"other-town"}),
        Rule("GET", "/api/v1/integrity", EVERYONE - {"other-town"}, {"key": f"id:{INSTITUTION}"}),
        Rule("GET", "/api/v1/institutions", EVERYONE),
        Rule("GET", "/api/v1/findings", EVERYONE),
        Rule("GET", "/api/v1/knowledge", EVERYONE, {"q": "托育"}),
        Rule("GET", "/api/v1/callers/history", frozenset({"operator", "admin"}), PHONE),
        Rule(
            "GET",
            "/api/v1/institutions/{institution_id}/open-cases",
            frozenset({"operator", "office", "auditor", "admin"}),
        ),
        Rule("GET", "/api/v1/cases/{case_id}/attachments", CASE_READERS),
        Rule("GET", "/api/v1/cases/{case_id}/attachments/{sha256}", CASE_READERS),
    ]
    # Writes are sent with an empty body: a role that may not act gets 403 before the body is
    # read; one that may gets the validation error (or the workflow's own answer).
    acting = EVERYONE - {"other-town", "other-dept", "auditor"}
    writes = [
        Rule("POST", "/api/v1/complaints", EVERYONE - {"auditor"}),
        # Only the case's handler (here the town) signs for it; the operator took the call.
        Rule(
            "POST",
            "/api/v1/cases/{case_id}/accept",
            acting - {"operator"},
            refused=frozenset({"forbidden", "not_handler"}),
        ),
        *[
            Rule("POST", f"/api/v1/cases/{{case_id}}/{action}", acting)
            for action in (
                "return",
                "notes",
                "assist",
                "result",
                "follow-up",
                "close",
                "hand-down",
                "take-over",
                "decisions",
                "reinspections",
                "joint-punishment",
                "review-return",
                "extension",
                "extension-decision",
                "supervise",
                "attachments",
            )
        ],
        *[
            Rule("POST", f"/api/v1/credit/{{entry_id}}/{action}", acting)
            for action in ("objection", "objection-review", "repair", "repair-review", "commitment")
        ],
        # Every member department with measures (samr among them) answers for its own,
        # whether or not it sees the case; the workflow refuses one not asked.
        *[
            Rule("POST", f"/api/v1/credit/{{entry_id}}/{action}", acting | {"other-dept"})
            for action in ("acknowledge", "lifting-acknowledge")
        ],
        # Towns, Health and the registrars (samr); at an institution only its own (below).
        Rule(
            "POST", "/api/v1/staff-checks", frozenset({"town", "other-town", "lead", "other-dept"})
        ),
        Rule("POST", "/api/v1/bans/{ban_id}/correction", frozenset({"office", "admin"})),
        Rule("POST", "/api/v1/audit/by-person", frozenset({"office", "auditor", "admin"})),
        Rule("POST", "/api/v1/inspections", EVERYONE - {"operator", "auditor"}),
        Rule("POST", "/api/v1/alarms", frozenset({"lead", "other-dept", "admin"})),
        Rule("POST", "/codec/decode", frozenset({"admin"})),
        Rule("POST", "/codec/encode", frozenset({"admin"})),
        Rule("PUT", "/api/v1/statistics/targets/{code}", frozenset({"office", "admin"})),
        # Open311 requests held for the hotline centre to dispatch by hand.
        Rule("GET", "/api/v1/open311/held", frozenset({"operator", "admin"})),
        Rule(
            "POST",
            "/api/v1/open311/held/{service_request_id}/dispatch",
            frozenset({"operator", "admin"}),
        ),
    ]
    return reads + writes


PUBLIC = {
    ("GET", "/api/v1/public/status"),
    ("POST", "/api/v1/session"),  # sign-in: name and password (tests/test_signin.py)
    ("POST", "/api/v1/session/end"),
    ("GET", "/open311/v2/services.{fmt}"),
    ("GET", "/open311/v2/services/{service_code}.{fmt}"),
    ("POST", "/open311/v2/requests.{fmt}"),  # its api_key is checked in test_open311
    ("GET", "/open311/v2/requests.{fmt}"),
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"),
    ("GET", "/open311/v2/tokens/{token}.{fmt}"),
    ("GET", "/open311/v2/discovery.{fmt}"),
    ("GET", "/open311/v2/servicerequestupdates.{fmt}"),  # the answer text only with a key
}


def concrete(path: str, case: str) -> str:
    return (
        path.replace("{case_id}", case)
        .replace("{entry_id}", credit_entry_id(case))
        .replace("{code}", "town-lushan")
        .replace("{institution_id}", INSTITUTION)
        .replace("{ban_id}", "ban-none")
        .replace("{seq}", "1")
        .replace("{sha256}", "0" * 64)
    )


async def test_every_endpoint_with_every_role(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    engine = make_engine(stack.settings.resolved_database_url)
    with Session(engine) as session:
        session.add(
            Institution(
                id=INSTITUTION,
                name="炉山镇角色测试托育园",
                town="town-lushan",
                registrar=Registrar.CIVIL,
                registered_at=datetime.now(UTC),
            )
        )
        session.commit()
    engine.dispose()
    operator = {"Authorization": f"Bearer {tokens.new('operator')}"}
    secret = "家长反映保育员体罚幼儿，要求保密。"
    payload = complaint_payload(description=secret, town="town-lushan")
    payload.pop("event_id")
    submitted = await http.post("/api/v1/complaints", json=payload, headers=operator)
    assert submitted.status_code == 202, submitted.text
    case = submitted.json()["case_id"]
    await wait_for_case(http, case, status="dispatched", assigned_units=["town-lushan"])
    headers = {name: tokens.headers(*who) for name, who in ROLES.items()}
    headers["operator"] = operator  # the operator who took the call

    table = rules()
    documented = {
        (method.upper(), path)
        for path, ops in (await http.get("/openapi.json")).json()["paths"].items()
        for method in ops
    }
    covered = {(r.method, r.path) for r in table} | PUBLIC
    assert documented == covered, (documented - covered, covered - documented)

    for rule in table:
        url = concrete(rule.path, case)
        anonymous = await http.request(
            rule.method, url, params=rule.params, json={} if rule.method == "POST" else None,
            headers={"Authorization": ""},
        )  # fmt: skip
        assert anonymous.status_code == 401, (rule.path, anonymous.text)
        for role in ROLES:
            response = await http.request(
                rule.method, url, params=rule.params, headers=headers[role],
                json={} if rule.method == "POST" else None,
            )  # fmt: skip
            where = (rule.method, rule.path, role, response.status_code, response.text[:300])
            assert response.status_code < 500, where
            if role in rule.allowed:
                assert response.status_code != 403, where
            else:
                assert response.status_code == 403, where
                assert response.json()["error"]["code"] in rule.refused, where
            if response.status_code == 403:
                assert secret not in response.text and "138 0000" not in response.text, where

    # Lists and searches show nothing of the case to those who may not see it.
    for role in ("other-town", "other-dept"):
        listed = await http.get("/api/v1/cases", params={"limit": 500}, headers=headers[role])
        assert case not in listed.text and secret not in listed.text, role
    foreign = await http.get(
        "/api/v1/cases", params={"unit": "town-lushan"}, headers=headers["other-town"]
    )
    assert foreign.status_code == 403
    # A unit's validation of its own action still speaks: hand-down only to a town.
    refused = await http.post(
        f"/api/v1/cases/{case}/hand-down",
        json={"unit": "samr", "reason": "交办"},
        headers=headers["lead"],
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_a_jurisdiction"


async def test_values_the_database_cannot_hold_are_client_errors(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    auditor = tokens.headers("auditor")
    for path, params in [
        ("/api/v1/audit", {"after_seq": str(2**40)}),  # past the 32-bit sequence: 422
        ("/api/v1/audit", {"case_id": "TY\x00"}),
        ("/api/v1/institutions", {"q": "托育\x00"}),
        ("/api/v1/cases/TY%00X", {}),
        ("/api/v1/findings", {"institution_id": "\x00"}),
        ("/api/v1/integrity", {"key": "id:\x00"}),
    ]:
        response = await http.get(path, params=params, headers=auditor)
        # SQLite stores NUL and answers; PostgreSQL refuses it: a 4xx either way, never a 5xx.
        assert response.status_code < 500, (path, params, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]["message"]
