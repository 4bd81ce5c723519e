"""Pure logic: validation, case references, routing, dead letters, the hash chain, schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra import reference
from infra.audit import verify
from infra.intake import InvalidEvent, parse_complaint
from models.audit import GENESIS_HASH, AuditHead, AuditRecord
from models.cases import Level, Priority, case_id_for
from models.complaints import Category
from models.notifications import DeadLetter, DeadLetterSource
from models.workflow_io import Routing
from tests.factories import complaint_payload
from workers.cli_schema import event_schemas
from workflows.cases.routing import route

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_a_valid_complaint_parses() -> None:
    complaint = parse_complaint(json.dumps(complaint_payload()).encode())
    assert complaint.category is Category.HEALTH_MANAGEMENT
    assert complaint.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"\x80\x81", "invalid complaint"),
        (b"[]", "invalid complaint"),
        (json.dumps(complaint_payload(occurred_at="2026-01-01T08:00:00")).encode(), "occurred_at"),
        (json.dumps(complaint_payload(category="aliens")).encode(), "category"),
        (json.dumps(complaint_payload(description="")).encode(), "description"),
        (json.dumps(complaint_payload(extra_field=1)).encode(), "extra_field"),
        (json.dumps(complaint_payload(town="psb")).encode(), "unknown town"),
        (json.dumps(complaint_payload(complainant={"phone": "call me"})).encode(), "phone"),
    ],
)
def test_bad_complaints_are_rejected_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_complaint(raw)
    assert reason in info.value.reason


def test_case_reference_is_stable_and_uses_shanghai_date() -> None:
    late_evening_utc = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Kaili
    first = case_id_for("evt-1", late_evening_utc)
    assert first == case_id_for("evt-1", late_evening_utc + timedelta(seconds=0))
    assert first.startswith("TY20260302-")
    assert first != case_id_for("evt-2", late_evening_utc)


def test_critical_cases_go_to_city_lead_with_town_and_psb_others_to_the_town() -> None:
    catalogue = reference.catalogue()
    abuse = route("town-kaitang", catalogue[Category.CHILD_ABUSE])
    assert abuse.priority is Priority.CRITICAL
    assert (abuse.handler, abuse.level) == ("health", Level.CITY)
    assert abuse.dispatch_to == ["health", "town-kaitang", "psb"]
    fees = route("town-kaitang", catalogue[Category.PREPAYMENT])
    assert (fees.handler, fees.level) == ("town-kaitang", Level.TOWN)
    assert fees.dispatch_to == ["town-kaitang"]
    assert fees.lead == ["samr", "civil"]
    routing = Routing(
        priority=Priority.CRITICAL,
        town="t",
        lead=["health"],
        handler="health",
        level=Level.CITY,
        collaborators=["health", "t"],
    )
    assert routing.dispatch_to == ["health", "t"]


def test_reference_data_covers_every_category_and_names_only_known_units() -> None:
    assert set(reference.catalogue()) == set(Category)
    units = reference.units()
    assert {"zone-gaoxin", "zone-lubi", "leading-office", "health", "psb"} <= set(units)
    assert sum(1 for u in units.values() if u.kind.is_jurisdiction) >= 20


def test_dead_letter_keeps_the_original_bytes() -> None:
    raw = b"\x00\xffbroken"
    letter = DeadLetter.of(raw, "bad", DeadLetterSource(topic="t", partition=1, offset=7))
    again = DeadLetter.model_validate_json(letter.model_dump_json())
    assert again.original == raw and again.event_id == "dead-letter:t:1:7"


def _chain(n: int) -> list[AuditRecord]:
    records, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = AuditRecord(
            seq=seq,
            actor="test",
            action="case.opened",
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            recorded_at=datetime(2026, 1, 1, 0, 0, seq, tzinfo=UTC),
            prev_hash=prev,
            hash="",
            details={"n": seq},
        )
        record.hash = record.compute_hash()
        prev = record.hash
        records.append(record)
    return records


KEY = {"00" * 32}  # no checkpoint to sign here, but verifying always needs a trusted key


def test_audit_chain_detects_edit_deletion_insertion_and_reordering() -> None:
    records = _chain(5)
    head = AuditHead(seq=5, hash=records[-1].hash)
    assert verify(records, head, (), KEY).ok

    edited = _chain(5)
    edited[2].reason = "changed"
    assert verify(edited, head, (), KEY).first_bad_seq == 3

    deleted = records[:2] + records[3:]
    assert verify(deleted, head, (), KEY).first_bad_seq == 4

    reordered = [records[0], records[2], records[1], *records[3:]]
    assert verify(reordered, head, (), KEY).first_bad_seq == 3

    truncated = records[:4]
    assert not verify(truncated, head, (), KEY).ok

    naive = _chain(1)
    naive[0].occurred_at = naive[0].occurred_at.replace(tzinfo=None)  # as a database may return it
    assert verify(naive, AuditHead(seq=1, hash=naive[0].hash), (), KEY).ok


def test_exported_schemas_match_the_models() -> None:
    for name, schema in event_schemas().items():
        path = SCHEMAS / f"{name}.schema.json"
        assert path.exists(), f"run `make schemas`: {path} is missing"
        assert json.loads(path.read_text("utf-8")) == schema, f"run `make schemas`: {path} is stale"


def test_security_settings_reach_the_clients(tmp_path: Path) -> None:
    from infra.kafka import client_options
    from infra.settings import Settings
    from infra.temporal import tls_config
    from streams.app import broker_credentials

    plain = Settings(data_dir=tmp_path)
    assert client_options(plain) == {"security_protocol": "PLAINTEXT"}
    assert tls_config(plain) is False and broker_credentials(plain) is None

    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    secure = Settings(
        data_dir=tmp_path,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="tuoyu",
        kafka_sasl_password="secret",
        temporal_tls_ca=ca,
    )
    options = client_options(secure)
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_password"]) == (
        "SCRAM-SHA-512",
        "secret",
    )
    tls = tls_config(secure)
    assert not isinstance(tls, bool) and tls.server_root_ca_cert == ca.read_bytes()
