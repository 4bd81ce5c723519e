"""Pure logic of GB/T 28181 registration: digest (RFC 7616 vectors, nonces, replays), the
Date header, and the gateway's REGISTER/MESSAGE decisions on a throw-away SQLite file with
a publisher that keeps what it is given."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

from api.sip import digest, messages
from api.sip.gateway import Gateway
from api.sip.register import gb_date
from api.sip.registrations import Registration, Registrations
from infra.db import make_engine, session_factory
from infra.settings import Settings
from models import topics
from models.camera import Device
from tests import sip_client
from tests.factories import alarm_xml, device_id, keepalive_xml, sip_message

RFC7616 = {
    "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "qop": "auth",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_the_rfc_7616_examples(algorithm: str, expected: str) -> None:
    key = digest.ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert digest.expected_response(algorithm, key, "GET", RFC7616) == expected


def answer(
    d: digest.Digest, device: str, password: str, nonce: str, nc: int = 1, algo: str = "MD5"
) -> dict[str, str]:
    params = {"username": device, "realm": d.realm, "nonce": nonce, "uri": "sip:x@522601",
              "nc": f"{nc:08x}", "cnonce": "0a4f113b", "qop": "auth",
              "algorithm": algo}  # fmt: skip
    key = digest.ha1(algo, device, d.realm, password)
    params["response"] = digest.expected_response(algo, key, "REGISTER", params)
    return params


def test_nonces_are_stateless_bounded_in_age_and_not_replayable() -> None:
    d = digest.Digest("5226010000", ttl=300)
    device = device_id()
    known = {"MD5": digest.ha1("MD5", device, d.realm, "secret")}
    nonce = d.nonce(device, now=1000.0)

    def verify(params: dict[str, str], now: float = 1010.0) -> digest.Verdict:
        return d.verify(
            params, device_id=device, method="REGISTER", secrets_by_algorithm=known, now=now
        )

    assert verify(answer(d, device, "secret", nonce)).ok
    assert verify(answer(d, device, "secret", nonce)).reason == "nonce count replayed"
    assert verify(answer(d, device, "secret", nonce, nc=2)).ok  # a refresh with the same nonce
    assert verify(answer(d, device, "wrong", nonce, nc=3)).reason == "wrong password"
    late = verify(answer(d, device, "secret", nonce, nc=4), now=1000.0 + 301)
    assert late.stale and not late.ok
    forged = answer(d, device, "secret", nonce.split(".")[0] + ".00ff")
    assert d.nonce(device, now=1000.0) != nonce
    assert verify(forged).reason == "not a nonce of this platform"
    other = digest.Digest("5226010000", ttl=300)  # another process's key: not its nonce
    assert not verify(answer(d, device, "secret", other.nonce(device, now=1000.0))).ok
    for _ in range(digest.MAX_TRACKED + 10):
        d.verify(answer(d, device, "secret", n := d.nonce(device)), device_id=device,
                 method="REGISTER", secrets_by_algorithm=known)  # fmt: skip
    assert len(d._counts) == digest.MAX_TRACKED and n in d._counts


def test_parse_params_reads_quoted_and_bare_values() -> None:
    header = 'Digest username="3402", realm="5226010000",nc=00000001, qop=auth, uri="sip:a@b"'
    assert digest.parse_params(header) == {
        "username": "3402", "realm": "5226010000", "nc": "00000001", "qop": "auth",
        "uri": "sip:a@b",
    }  # fmt: skip
    with pytest.raises(ValueError):
        digest.parse_params("Basic dXNlcjpwYXNz")


def test_the_date_header_is_local_time_with_milliseconds() -> None:
    when = datetime(2026, 12, 1, 12, 10, 0, 123456, tzinfo=UTC)
    assert gb_date(when) == "2026-12-01T20:10:00.123"


# -- the gateway's decisions -----------------------------------------------------------------


class Kept:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, bytes]] = []

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        self.records += [(topic, k, v) for k, v in messages]

    def of(self, topic: str) -> list[dict[str, object]]:
        return [json.loads(v) for t, _, v in self.records if t == topic]


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[object]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sip.db'}")
    SQLModel.metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


def with_device(sessions: object, device: str, keepalive_interval: int | None = None) -> None:
    with sessions() as session:  # type: ignore[operator]
        assert isinstance(session, Session)
        session.add(Device(id=device, institution_id="INST-1", registered_at=datetime.now(UTC),
                           sip_ha1=sip_client.ha1(device),
                           keepalive_interval=keepalive_interval))  # fmt: skip
        session.commit()


def exchange(gateway: Gateway, data: bytes, host: str = "127.0.0.1") -> list[bytes]:
    sent: list[bytes] = []
    asyncio.run(gateway.handle(data, (host, 5070), "UDP", sent.append))
    return sent


def registration_of(
    gateway: Gateway, device: str, expires: int | str = 3600, extra: str = ""
) -> list[bytes]:
    local = ("127.0.0.1", 5070)
    head = f"Expires: {expires}\r\n{extra}"
    first = exchange(gateway, sip_client.request(device, local, "c1", 1, head))
    assert first[0].startswith(b"SIP/2.0 401")
    auth = sip_client.credentials(device, sip_client.challenge(first[0]), sip_client.PASSWORD)
    return exchange(gateway, sip_client.request(device, local, "c1", 2, head + auth))


def test_registration_unregistration_and_the_compatibility_switch(sessions: object) -> None:
    kept = Kept()
    gateway = Gateway(kept, Settings(sip_register_min_expires=60), sessions)  # type: ignore[arg-type]
    device = device_id()
    with_device(sessions, device, keepalive_interval=30)
    # Not registered: refused and dead-lettered.
    [reply] = exchange(gateway, sip_message(alarm_xml(device), device))
    assert reply.startswith(b"SIP/2.0 403")
    assert "is not registered" in str(kept.of(topics.DEAD_LETTER)[-1]["reason"])
    # Too short an Expires: 423 with the minimum.
    [reply] = registration_of(gateway, device, expires=10)
    assert reply.startswith(b"SIP/2.0 423") and b"Min-Expires: 60" in reply
    [reply, catalog] = registration_of(gateway, device)
    assert reply.startswith(b"SIP/2.0 200") and b"Expires: 3600" in reply
    assert re.search(rb"Date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\r\n", reply)
    assert b"X-GB-Ver" not in reply  # a 2016 device gets the 2016 answer
    assert catalog.startswith(b"MESSAGE ") and b"<CmdType>Catalog</CmdType>" in catalog
    [event] = kept.of(topics.CAMERA_ALARMS)
    assert (event["kind"], event["offline_after"]) == ("registered", 90.0)
    [reply] = exchange(gateway, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 200")
    assert kept.of(topics.CAMERA_ALARMS)[-1]["offline_after"] == 90.0
    # Another host sending as this device is not this device.
    [reply] = exchange(gateway, sip_message(keepalive_xml(device), device), host="10.9.8.7")
    assert reply.startswith(b"SIP/2.0 403")
    [reply] = registration_of(gateway, device, expires=0)
    assert reply.startswith(b"SIP/2.0 200") and b"Expires: 0" in reply
    assert kept.of(topics.CAMERA_ALARMS)[-1]["kind"] == "unregistered"
    [reply] = exchange(gateway, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 403")
    # The switch for platforms that push alarms without registering.
    open_gateway = Gateway(kept, Settings(sip_require_registration=False), sessions)  # type: ignore[arg-type]
    [reply] = exchange(open_gateway, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 200")


def test_a_restarted_gateway_keeps_registrations_and_expires_them(sessions: object) -> None:
    kept = Kept()
    device = device_id()
    with_device(sessions, device)
    registration_of(Gateway(kept, Settings(), sessions), device, expires=60)  # type: ignore[arg-type]
    again = Gateway(kept, Settings(), sessions)  # type: ignore[arg-type]
    asyncio.run(again.start())
    assert again.registrations.get(device, time.time()) is not None
    [reply] = exchange(again, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 200")
    asyncio.run(again.registrar.expire(time.time() + 61))
    assert kept.of(topics.CAMERA_ALARMS)[-1]["kind"] == "unregistered"
    [reply] = exchange(again, sip_message(keepalive_xml(device), device))
    assert reply.startswith(b"SIP/2.0 403")


def test_a_2022_subscription_is_refreshed_in_its_dialog(sessions: object) -> None:
    registrations = Registrations(sessions)  # type: ignore[arg-type]
    now = 10_000.0
    r = Registration("D1", "INST-1", "127.0.0.1", 5070, "UDP", now, now + 3600, "3.0")
    registrations.put(r)
    r.subscription = {"call-id": "c", "from-tag": "f", "to-tag": "t", "cseq": "1",
                      "expires": "900"}  # fmt: skip
    registrations.subscribed(r, 900, now)
    assert registrations.refresh_due(now + 500) == []
    assert registrations.refresh_due(now + 601) == [r]  # two thirds of 900 s passed
    r2016 = Registration("D2", "INST-1", "127.0.0.1", 5071, "UDP", now, now + 3600, None)
    registrations.put(r2016)
    assert r2016 not in registrations.refresh_due(now + 3000)


def test_the_registrar_gets_the_digests_not_the_password_on_the_topic() -> None:
    from typer.testing import CliRunner

    from workers.cli import app as cli

    device = device_id()
    result = CliRunner().invoke(cli, ["devices", "sip-secret", device], input="Kaili-12345678\n")
    assert result.exit_code == 0, result.output
    fields = json.loads(result.output.strip().splitlines()[-1])
    assert fields == sip_client.secrets_of(device, sha256=True)


def test_a_2022_device_is_subscribed_again_when_its_subscription_ends(sessions: object) -> None:
    kept = Kept()
    gateway = Gateway(kept, Settings(), sessions)  # type: ignore[arg-type]
    device = device_id()
    with_device(sessions, device)
    reply, catalog, subscribe = registration_of(gateway, device, extra="X-GB-Ver: 3.0\r\n")
    assert b"X-GB-Ver: 3.0" in reply and b"X-GB-Ver: 3.0" in catalog
    assert subscribe.startswith(b"SUBSCRIBE ") and b"Event: presence" in subscribe
    assert b"<CmdType>Alarm</CmdType>" in subscribe and b"Expires: 3600" in subscribe
    # The device grants it: the dialog is kept.
    granted = messages.response(messages.parse(subscribe), 200)
    granted.headers.append(("expires", "900"))
    assert exchange(gateway, granted.encode()) == []
    to_tag = messages.tag_of(granted.header("to"))
    registration = gateway.registrations.get(device, time.time())
    assert registration is not None and registration.subscription is not None
    assert registration.subscription["to-tag"] == to_tag
    assert registration.subscription["expires"] == "900"
    # It ends the subscription (a NOTIFY without an alarm): taken, and subscribed again at the
    # device's next REGISTER.
    notify = (
        sip_message(b"", device)
        .replace(b"MESSAGE", b"NOTIFY")
        .replace(b"Max-Forwards", b"Subscription-State: terminated;reason=timeout\r\nMax-Forwards")
    )
    [reply] = exchange(gateway, notify)
    assert reply.startswith(b"SIP/2.0 200") and registration.subscription is None
    reply, again = registration_of(gateway, device, extra="X-GB-Ver: 3.0\r\n")
    assert reply.startswith(b"SIP/2.0 200") and again.startswith(b"SUBSCRIBE ")


@pytest.mark.parametrize(
    "extra",
    [
        "Authorization: Basic dXNlcjpwYXNz\r\n",
        'Authorization: Digest username="x", realm=\r\n',
        'Authorization: Digest username="{device}", realm="5226010000", nonce="zz.yy", '
        'uri="sip:a", response="00"\r\n',
        'Authorization: Digest username="{device}", realm="5226010000", nonce="1.2", '
        'uri="sip:a", response="00", qop=auth-int, nc=1\r\n',
        'Authorization: Digest username="{device}", realm="5226010000", nonce="1.2", '
        'uri="sip:a", response="00", algorithm=SHA-512-256\r\n',
    ],
)
def test_hostile_registers_get_4xx_and_never_fail(sessions: object, extra: str) -> None:
    kept = Kept()
    gateway = Gateway(kept, Settings(), sessions)  # type: ignore[arg-type]
    device = device_id()
    with_device(sessions, device)
    data = sip_client.request(
        device, ("127.0.0.1", 5070), "c9", 1, extra.replace("{device}", device)
    )
    [reply] = exchange(gateway, data)
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 401, 403), reply[:200]
    assert gateway.registrations.get(device, time.time()) is None


@pytest.mark.parametrize(
    ("expires", "status", "granted"),
    [("３６００", 400, None), ("99999999999", 400, None), ("9999999999", 200, b"86400")],
)
def test_expires_is_ascii_digits_and_capped(
    sessions: object, expires: str, status: int, granted: bytes | None
) -> None:
    gateway = Gateway(Kept(), Settings(), sessions)  # type: ignore[arg-type]
    device = device_id()
    with_device(sessions, device)
    reply = registration_of(gateway, device, expires=expires)[0]
    assert reply.startswith(f"SIP/2.0 {status}".encode()), reply[:200]
    if granted is not None:
        assert b"Expires: " + granted + b"\r\n" in reply


def test_repeated_wrong_passwords_lock_out_that_host_only(sessions: object) -> None:
    gateway = Gateway(Kept(), Settings(sip_auth_failures_max=3), sessions)  # type: ignore[arg-type]
    device = device_id()
    with_device(sessions, device)

    def attempt(password: str, host: str) -> bytes:
        local = (host, 5070)
        sent: list[bytes] = []
        first = sip_client.request(device, local, "c7", 1, "Expires: 3600\r\n")
        asyncio.run(gateway.handle(first, local, "UDP", sent.append))
        auth = sip_client.credentials(device, sip_client.challenge(sent[0]), password)
        second = sip_client.request(device, local, "c7", 2, "Expires: 3600\r\n" + auth)
        asyncio.run(gateway.handle(second, local, "UDP", sent.append))
        return sent[1]

    for _ in range(3):
        assert attempt("guess", "10.0.0.9").startswith(b"SIP/2.0 403")
    locked = attempt(sip_client.PASSWORD, "10.0.0.9")  # even the right one, for a while
    assert locked.startswith(b"SIP/2.0 403") and b"too many" in locked
    assert attempt(sip_client.PASSWORD, "127.0.0.1").startswith(b"SIP/2.0 200")
