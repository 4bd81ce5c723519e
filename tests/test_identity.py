"""One canonical identity number: every spelling of a banned number is either that number
(and hashes as it) or refused; masking finds every spelling. Then the finding itself on the
running stack: the banned number in full-width digits, or with one full-width digit, is
refused a hire."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from infra.db import make_engine, session_factory
from infra.identity import (
    IdentityHasher,
    IdentityNumberError,
    canonical_id_number,
    load_hasher,
    redact,
)
from infra.kafka import KafkaPublisher
from models import topics
from models.bans import Ban, BanRole
from models.complaints import Category
from models.institutions import Institution, Registrar
from models.staff import Employment
from tests.auth import Tokens
from tests.factories import (
    ARABIC_INDIC,
    FULL_WIDTH,
    complaint_payload,
    identity_number,
    registry_event,
    spelled,
)
from tests.kafka_reader import TopicReader
from tests.polling import wait_for_case
from workers.stack import Stack, child_env

HASHER = IdentityHasher(b"k" * 32)


def decimal_digits() -> dict[int, list[str]]:
    """Every Unicode character with a decimal value, by value (all decimal-digit blocks)."""
    found: dict[int, list[str]] = defaultdict(list)
    for code in range(sys.maxunicode + 1):
        value = unicodedata.decimal(chr(code), None)
        if value is not None:
            found[value].append(chr(code))
    return found


DIGITS = decimal_digits()
SPACES = [" ", "\u3000", "\u00a0", "\u2002", "\u2009", "\u202f", "\t"]
XS = ["X", "x", "Ｘ", "ｘ"]


def ascii_of(text: str) -> str:
    """What a reader makes of text: NFKC, every decimal digit as ASCII, no spaces."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
        for c in folded
        if not c.isspace() and unicodedata.category(c) not in ("Zs", "Cf", "Pd")
    ).upper()


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(canonical number, a spelling of it): each digit from any decimal-digit block,
    spaces anywhere between, the check X in any case or width."""
    number = draw(numbers())
    out: list[str] = []
    for c in number:
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(SPACES)))
        if c == "X":
            out.append(draw(st.sampled_from(XS)))
        elif draw(st.booleans()):
            out.append(c)
        else:
            out.append(draw(st.sampled_from(DIGITS[int(c)])))
    return number, "".join(out)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A valid number (check character included), about one in eleven ending in X."""
    from models.people import _CHECK, _WEIGHTS

    body = "522601" + "".join(draw(st.sampled_from("0123456789")) for _ in range(11))
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + _CHECK[total % 11]


def test_every_decimal_digit_block_is_enumerated() -> None:
    # Unicode 15 has 68 blocks of ten decimal digits (and a few more in later versions).
    assert all(len(DIGITS[d]) >= 60 for d in range(10))
    assert "５" in DIGITS[5] and "٥" in DIGITS[5] and "५" in DIGITS[5]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spellings())
def test_no_spelling_of_a_banned_number_gets_past_the_hash(pair: tuple[str, str]) -> None:
    number, spelling = pair
    banned = HASHER.hash(number)
    try:
        canonical = canonical_id_number(spelling)
    except IdentityNumberError:
        with pytest.raises(IdentityNumberError):
            HASHER.hash(spelling)
        return
    assert canonical == number
    assert HASHER.hash(spelling) == banned


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spellings(), st.sampled_from(["{}", '{{"id_number": "{}"}}', "x{}y", "{} 138 0000 0000"]))
def test_masking_leaves_no_spelling_in_clear(pair: tuple[str, str], shape: str) -> None:
    number, spelling = pair
    for raw in (shape.format(spelling), json.dumps({"id_number": spelling})):
        masked = redact(raw.encode()).decode()
        assert number not in ascii_of(masked), (raw, masked)
        assert number[:-1] not in ascii_of(masked), (raw, masked)


def test_the_canonical_form_and_its_errors() -> None:
    number = identity_number()
    assert canonical_id_number(spelled(number, FULL_WIDTH)) == number
    assert canonical_id_number(f" {number[:6]}\u3000{number[6:]} ") == number
    for bad in (spelled(number, ARABIC_INDIC), number[:-1], number + "1", number[:-1] + "Y"):
        with pytest.raises(IdentityNumberError, match="身份证号码"):
            canonical_id_number(bad)
    # Device ids (20 digits) and phone numbers stay readable in dead letters.
    for kept in (b"52260100001320123456", b"138 0000 0000"):
        assert redact(kept) == kept


@pytest.fixture(scope="module")
def writer(stack: Stack) -> Iterator[Engine]:
    engine = make_engine(stack.settings.resolved_database_url)
    yield engine
    engine.dispose()


def register(engine: Engine, town: str, registrar: Registrar) -> str:
    institution_id = f"KL-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        session.add(
            Institution(
                id=institution_id,
                name=f"测试托育园{institution_id[-4:]}",
                town=town,
                registrar=registrar,
                registered_at=datetime.now(UTC),
            )
        )
        session.commit()
    return institution_id


async def banned_number(stack: Stack, http: httpx.AsyncClient, engine: Engine) -> str:
    """A number banned for life by a real case in town-lushan."""
    payload = complaint_payload(category=Category.CHILD_ABUSE, town="town-lushan")
    response = await http.post("/api/v1/complaints", json=payload)
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    await wait_for_case(http, case_id)
    number = identity_number()
    with session_factory(engine)() as session:
        session.add(
            Ban(
                id=f"ban-{uuid.uuid4().hex[:8]}",
                person_hash=load_hasher(stack.settings).hash(number),
                person_masked=f"{number[:3]}{'*' * 11}{number[-4:]}",
                name="张保育员",
                role=BanRole.PERPETRATOR,
                case_id=case_id,
                legal_basis="终身禁入",
                reason="虐童",
                banned_at=datetime.now(UTC),
            )
        )
        session.commit()
    return number


async def test_the_banned_number_in_full_width_digits_is_refused_a_hire(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, writer: Engine
) -> None:
    number = await banned_number(stack, http, writer)
    kindergarten = register(writer, "town-lushan", Registrar.CIVIL)
    lushan, wanchao = tokens.headers("town", "town-lushan"), tokens.headers("town", "town-wanchao")
    for spelling in (
        spelled(number, FULL_WIDTH),
        spelled(number, FULL_WIDTH, range(7, 8)),  # a single full-width digit
        f"{number[:6]}\u3000{number[6:]}",
        number[:-1] + number[-1].lower(),
    ):
        body = {
            "person": {"id_number": spelling, "name": "张保育员"},
            "institution_id": kindergarten,
            "role": "nursery-teacher",
            "hire": True,
        }
        refused = await http.post("/api/v1/staff-checks", json=body, headers=lushan)
        assert refused.status_code == 200, refused.text
        assert refused.json()["eligible"] is False and refused.json()["recorded"] is False
        # A town of another town may not hire there at all.
        foreign = await http.post("/api/v1/staff-checks", json=body, headers=wanchao)
        assert foreign.status_code == 403, foreign.text
        assert foreign.json()["error"]["code"] == "forbidden"
    arabic = {"person": {"id_number": spelled(number, ARABIC_INDIC), "name": "张保育员"},
              "institution_id": kindergarten, "hire": True}  # fmt: skip
    unreadable = await http.post("/api/v1/staff-checks", json=arabic, headers=lushan)
    assert unreadable.status_code == 422, unreadable.text
    assert "身份证号码" in unreadable.text and spelled(number, ARABIC_INDIC) not in unreadable.text
    with Session(writer) as session:
        hired = session.exec(select(Employment).where(Employment.institution_id == kindergarten))
        assert hired.all() == []


async def test_the_audit_query_by_person_takes_any_spelling(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens, writer: Engine
) -> None:
    number = identity_number()
    kindergarten = register(writer, "town-lushan", Registrar.SAMR)
    body = {"person": {"id_number": number, "name": "李保育员"}, "institution_id": kindergarten}
    checked = await http.post(
        "/api/v1/staff-checks", json=body, headers=tokens.headers("department", "samr")
    )
    assert checked.status_code == 200, checked.text
    auditor = tokens.headers("auditor")
    found = await http.post(
        "/api/v1/audit/by-person", json={"id_number": spelled(number, FULL_WIDTH)}, headers=auditor
    )
    assert found.status_code == 200, found.text
    assert [r["action"] for r in found.json()["records"]] == ["staff.checked"]
    bad = await http.post(
        "/api/v1/audit/by-person",
        json={"id_number": spelled(number, ARABIC_INDIC)},
        headers=auditor,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_id_number"
    # The command line likewise.
    env = {
        **child_env(stack.settings),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }

    def query(spelling: str) -> subprocess.CompletedProcess[str]:
        argv = ["tuoyu", "audit", "query", "--id-number", spelling, "--json"]
        return subprocess.run(argv, env=env, capture_output=True, text=True)

    cli = await asyncio.to_thread(query, f"{spelled(number, FULL_WIDTH)[:6]}\u3000{number[6:]}")
    assert cli.returncode == 0, cli.stderr
    assert [json.loads(line)["action"] for line in cli.stdout.splitlines()] == ["staff.checked"]
    refused = await asyncio.to_thread(query, spelled(number, ARABIC_INDIC))
    assert refused.returncode == 2 and "身份证号码" in refused.stdout + refused.stderr


def test_registry_events_and_face_matches_carry_the_canonical_number() -> None:
    from pydantic import TypeAdapter, ValidationError

    from models.camera import CameraAlarm
    from models.registry import RegistryEvent

    number = identity_number()
    staff = json.loads(
        registry_event(
            "staff-hired",
            institution_id="KL-1",
            person={"id_number": spelled(number, FULL_WIDTH, range(7, 8)), "name": "张某"},
            role="nursery-teacher",
        )
    )
    event = TypeAdapter(RegistryEvent).validate_python(staff)
    assert HASHER.ref(event.person).id_hash == HASHER.hash(number)  # type: ignore[union-attr]
    staff["person"]["id_number"] = spelled(number, ARABIC_INDIC)
    with pytest.raises(ValidationError, match="身份证号码"):
        TypeAdapter(RegistryEvent).validate_python(staff)
    alarm = {
        "event_id": "cam-1",
        "occurred_at": datetime.now(UTC).isoformat(),
        "kind": "face-match",
        "device_id": "52260100001320000001",
        "person": {"id_number": f"{number[:6]}\u3000{spelled(number[6:], FULL_WIDTH)}",
                   "name": "张某"},
    }  # fmt: skip
    seen = CameraAlarm.model_validate(alarm)
    assert seen.person is not None and seen.person.id_number.get_secret_value() == number


async def test_a_registry_event_with_another_scripts_digits_is_a_masked_dead_letter(
    stack: Stack, producer: KafkaPublisher, writer: Engine
) -> None:
    number = identity_number()
    kindergarten = register(writer, "town-lushan", Registrar.CIVIL)
    spelling = spelled(number, ARABIC_INDIC)
    raw = registry_event(
        "staff-hired",
        institution_id=kindergarten,
        person={"id_number": spelling, "name": "周某"},
        role="caregiver",
    )
    event_id = json.loads(raw)["event_id"]
    producer.publish(topics.REGISTRY, kindergarten, raw)
    reader = TopicReader(stack.settings.kafka_bootstrap, topics.DEAD_LETTER)
    try:
        [letter] = await reader.wait_for(
            lambda r: event_id.encode() in base64.b64decode(json.loads(r.value)["original_base64"])
        )
    finally:
        reader.close()
    body = json.loads(letter.value)
    assert "身份证号码" in body["reason"] or "id_number" in body["reason"], body["reason"]
    original = base64.b64decode(body["original_base64"]).decode()
    assert spelling not in original and number not in ascii_of(original), original
    with Session(writer) as session:
        hired = session.exec(select(Employment).where(Employment.institution_id == kindergarten))
        assert hired.all() == []
