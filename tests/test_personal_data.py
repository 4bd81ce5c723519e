"""Personal data only in its vault: a caller's name and phone and an identity number submitted
through the API are found nowhere in clear, not on any topic, not in Temporal's store, its
CLI's output or a raw history, not in the logs or any table; the authorised viewer still
reads the contact. Old-shape events (contact or number in clear on a topic) are sealed or
hashed where the stream worker reads them."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from api.routes_codec import cors_origins
from infra.codec import EncryptionCodec
from infra.db import SessionFactory, make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.vault import load_vault
from infra.vault_store import reseal_contacts
from models import topics
from models.cases import ComplainantContact, workflow_id_for
from tests.auth import Tokens
from tests.factories import case_id_of, complaint_payload, identity_number
from tests.polling import wait_for_case
from tests.search_stores import (
    all_topic_records,
    cli,
    completed,
    every_table,
    files_under,
    hits,
    raw_history,
    spellings,
)
from workers.stack import Stack


async def test_personal_data_submitted_is_found_nowhere_in_clear(
    stack: Stack,
    http: httpx.AsyncClient,
    tokens: Tokens,
    sessions: SessionFactory,
    temporal_client: Client,
) -> None:
    tag = uuid.uuid4().hex[:6]
    name, phone = f"来电人{tag}", f"139 {int(tag, 16) % 10000:04d} 7531"
    seen_number, staff_number = identity_number(), identity_number()
    operator = {"Authorization": f"Bearer {tokens.new('operator')}"}
    health = tokens.headers("department", "health")

    payload = complaint_payload(complainant={"name": name, "phone": phone})
    payload.pop("event_id")
    submitted = await http.post("/api/v1/complaints", json=payload, headers=operator)
    assert submitted.status_code == 202, submitted.text
    case_id, complaint_event = submitted.json()["case_id"], submitted.json()["event_id"]

    # The same kind of caller through Open311 (form fields first_name, last_name, phone, email).
    web_first, web_last, web_phone = f"网{tag}", "报", f"138 {int(tag, 16) % 10000:04d} 8642"
    web_email = f"parent.{tag}@example.org"
    open311 = await http.post(
        "/open311/v2/requests.json",
        data={
            "api_key": tokens.token("operator"),
            "service_code": "prepayment",
            "attribute[town]": "street-dashizi",
            "attribute[institution_name]": f"大十字街道童心托育{tag}",
            "description": "机构要求一次性预交半年保育费。",
            "first_name": web_first,
            "last_name": web_last,
            "phone": web_phone,
            "email": web_email,
        },
    )
    assert open311.status_code == 200, open311.text
    web_case = open311.json()[0]["service_request_id"]

    alarm_event = f"face-{uuid.uuid4()}"
    alarm = await http.post(
        "/api/v1/alarms",
        headers=health,
        json={
            "event_id": alarm_event,
            "occurred_at": datetime.now(UTC).isoformat(),
            "kind": "face-match",
            "device_id": f"34020000001320{tag}",
            "person": {"id_number": seen_number, "name": "人脸比对对象"},
        },
    )
    assert alarm.status_code == 202, alarm.text
    staff_event = f"check-{uuid.uuid4()}"
    check = await http.post(
        "/api/v1/staff-checks",
        headers=health,
        json={"person": {"id_number": staff_number, "name": "应聘人员"}, "event_id": staff_event},
    )
    assert check.status_code == 200, check.text

    await wait_for_case(http, case_id, status="dispatched")
    await wait_for_case(http, web_case, status="dispatched")
    await completed(temporal_client, f"face-{alarm_event}")
    await completed(temporal_client, f"ban-check-{staff_event}")  # named for the UI

    # The viewer who may see it reads the contact in clear, and the view is audited.
    viewed = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=operator)
    assert viewed.status_code == 200, viewed.text
    assert (viewed.json()["name"], viewed.json()["phone"]) == (name, phone)
    street = tokens.headers("town", "street-dashizi")  # the Open311 case's handler
    web_viewed = await http.get(f"/api/v1/cases/{web_case}/complainant", headers=street)
    assert web_viewed.status_code == 200, web_viewed.text
    assert (web_viewed.json()["phone"], web_viewed.json()["email"]) == (web_phone, web_email)
    assert web_viewed.json()["name"] == f"{web_last}{web_first}"  # a Chinese name: no space

    # The numbers whole, and the digits their masked form hides (birth date and sequence).
    secrets = spellings(name, phone, phone.replace(" ", ""), seen_number, staff_number)
    secrets += spellings(f"{web_last}{web_first}", web_first, web_phone, web_email)
    secrets += spellings(seen_number[6:17], staff_number[6:17])
    places: dict[str, bytes] = {}
    places |= {
        f"topic {k}": v
        for k, v in (
            await all_topic_records(
                stack.settings.kafka_bootstrap,
                {topics.COMPLAINTS: complaint_event, topics.CAMERA_ALARMS: alarm_event},
            )
        ).items()
    }
    assert places[f"topic {topics.COMPLAINTS}"] and places[f"topic {topics.CAMERA_ALARMS}"]
    data = stack.settings.data_dir
    places |= {f"file {k}": v for k, v in files_under(data / "temporal", data / "logs").items()}
    assert any(k.endswith("temporal.db") for k in places)
    ids = [workflow_id_for(case_id), workflow_id_for(web_case)]
    ids += [f"face-{alarm_event}", f"ban-check-{staff_event}"]
    for workflow_id in ids:
        places[f"raw history {workflow_id}"] = await raw_history(stack, workflow_id)
        places[f"temporal workflow show {workflow_id}"] = cli(stack, "show", "-w", workflow_id)
        places[f"temporal workflow describe {workflow_id}"] = cli(
            stack, "describe", "-w", workflow_id
        )
    places |= {f"table {k}": v for k, v in every_table(sessions).items()}

    leaks = {where: hits(blob, secrets) for where, blob in places.items()}
    leaks = {where: found for where, found in leaks.items() if found}
    assert not leaks, "\n".join(f"{where}: {found}" for where, found in sorted(leaks.items()))


async def test_an_old_shape_complaint_is_sealed_where_the_stream_reads_it(
    stack: Stack,
    http: httpx.AsyncClient,
    tokens: Tokens,
    producer: KafkaPublisher,
    sessions: SessionFactory,
) -> None:
    """A complaint produced with its contact in clear (the shape before sealing) is still
    accepted; the workflow and the table get it sealed, the viewer reads it in clear."""
    tag = uuid.uuid4().hex[:6]
    name, phone = f"旧格式来电人{tag}", f"137 {int(tag, 16) % 10000:04d} 2468"
    payload = complaint_payload(complainant={"name": name, "phone": phone})
    producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
    case_id = case_id_of(payload)
    await wait_for_case(http, case_id, status="dispatched")

    history = await raw_history(stack, workflow_id_for(case_id))
    assert not hits(history, spellings(name, phone)), "clear contact in the workflow history"
    tables = every_table(sessions)
    assert not hits(tables["complainant_contacts"], spellings(name, phone))
    viewer = tokens.headers("town", "town-lushan")  # the handling town
    viewed = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=viewer)
    assert viewed.status_code == 200, viewed.text
    assert (viewed.json()["name"], viewed.json()["phone"]) == (name, phone)


async def test_the_codec_endpoint_decodes_for_admins_only(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    codec = EncryptionCodec(load_vault(stack.settings))
    clear = Payload(metadata={"encoding": b"json/plain"}, data='{"说明":"编解码测试"}'.encode())
    [sealed] = await codec.encode([clear])
    assert clear.data not in sealed.SerializeToString()

    def body(payload: Payload) -> dict[str, object]:
        return {
            "payloads": [
                {
                    "metadata": {
                        k: base64.b64encode(v).decode() for k, v in payload.metadata.items()
                    },
                    "data": base64.b64encode(payload.data).decode(),
                }
            ]
        }

    ui = cors_origins(stack.settings)[0]  # the embedded Temporal UI's
    admin = tokens.headers("admin") | {"Origin": ui, "X-Namespace": "default"}
    decoded = await http.post("/codec/decode", json=body(sealed), headers=admin)
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == ui
    [out] = decoded.json()["payloads"]
    assert base64.b64decode(out["data"]) == clear.data
    assert base64.b64decode(out["metadata"]["encoding"]) == b"json/plain"
    encoded = await http.post("/codec/encode", json=body(clear), headers=admin)
    assert encoded.status_code == 200
    [again] = encoded.json()["payloads"]
    assert base64.b64decode(again["metadata"]["encoding"]) == b"binary/encrypted"

    preflight = await http.options(
        "/codec/decode",
        headers={
            "Origin": ui,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ui
    elsewhere = await http.get("/api/v1/me", headers={"Origin": ui} | tokens.headers("admin"))
    assert "access-control-allow-origin" not in elsewhere.headers  # CORS for the codec only

    for who, headers in {
        "operator": tokens.headers("operator"),
        "auditor": tokens.headers("auditor"),
        "leading office": tokens.headers("leading-office", "leading-office"),
    }.items():
        refused = await http.post("/codec/decode", json=body(sealed), headers=headers)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["error"]["message"] == "你的角色无权进行此操作。"
        assert "编解码测试" not in refused.text
    anonymous = await http.post("/codec/decode", json=body(sealed), headers={"Authorization": ""})
    assert anonymous.status_code == 401
    garbage = await http.post("/codec/decode", content=b"not json", headers=admin)
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_payloads"


async def test_a_contact_stored_in_clear_before_sealing_is_sealed_by_rewrap(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Rows from before migration 0012 hold the contact in clear: still shown to the viewer,
    and `tuoyu vault rewrap` seals them."""
    operator = {"Authorization": f"Bearer {tokens.new('operator')}"}
    tag = uuid.uuid4().hex[:6]
    name, phone = f"迁移前来电人{tag}", f"136 {int(tag, 16) % 10000:04d} 1357"
    payload = complaint_payload()
    payload.pop("event_id")
    submitted = await http.post("/api/v1/complaints", json=payload, headers=operator)
    case_id = submitted.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched")
    engine = make_engine(stack.settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            row = session.get(ComplainantContact, case_id)
            assert row is not None and row.sealed is not None
            row.sealed, row.name, row.phone = None, name, phone  # as stored before sealing
            session.add(row)
            session.commit()
        before = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=operator)
        assert (before.json()["name"], before.json()["phone"]) == (name, phone)
        with session_factory(engine)() as session:
            assert reseal_contacts(session, load_vault(stack.settings)).sealed >= 1
            row = session.get(ComplainantContact, case_id)
            assert row is not None and row.sealed and (row.name, row.phone) == (None, None)
    finally:
        engine.dispose()
    after = await http.get(f"/api/v1/cases/{case_id}/complainant", headers=operator)
    assert (after.json()["name"], after.json()["phone"]) == (name, phone)


async def test_temporal_cli_reads_a_history_through_the_codec_endpoint_with_an_admin_token(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The real CLI speaks the remote codec protocol to the API: with an admin's token it
    shows the payloads decoded, with another role's it does not."""
    marker = f"编解码可读标记{uuid.uuid4().hex[:8]}"
    payload = complaint_payload(description=marker)
    payload.pop("event_id")
    submitted = await http.post("/api/v1/complaints", json=payload)
    case_id = submitted.json()["case_id"]
    await wait_for_case(http, case_id, status="dispatched")
    endpoint = f"http://{stack.settings.http_host}:{stack.settings.http_port}/codec"
    workflow_id = workflow_id_for(case_id)

    def show(token: str) -> bytes:
        return cli(
            stack,
            "show",
            "-w",
            workflow_id,
            "--codec-endpoint",
            endpoint,
            "--codec-auth",
            f"Bearer {token}",
        )

    assert marker.encode() in show(tokens.token("admin"))
    with pytest.raises(subprocess.CalledProcessError):
        show(tokens.token("auditor"))  # the codec endpoint refuses: the CLI cannot decode
    assert marker.encode() not in cli(stack, "show", "-w", workflow_id)
