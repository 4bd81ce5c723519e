"""The audit chain and its signed checkpoints against every kind of tampering, made
directly in a real database (the leg's: SQLite or PostgreSQL); and the export a third party
verifies on its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlmodel import Session

from infra import audit
from infra.audit_export import jsonl, verify_jsonl, write_csv
from infra.audit_queries import query
from infra.db import make_engine, session_factory
from infra.migrate import prepare_database
from infra.signing import AuditSigner
from models.audit import AuditEntry, AuditQuery, AuditRecord
from tests.audit_db import own_database

SIGNER = AuditSigner(Ed25519PrivateKey.generate())


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    url = own_database(database_url, tmp_path)
    prepare_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        for i in range(1, 11):
            audit.append(
                session,
                AuditEntry(
                    actor="tester",
                    action="case.note",
                    reason=f"第{i}条",
                    case_id="TY20260101-0000000001",
                    occurred_at=datetime(2026, 1, 1, 8, i, tzinfo=UTC),
                    details={"i": i},
                ),
            )
            if i in (5, 10):
                session.flush()
                audit.checkpoint(session, SIGNER)
            session.commit()
    yield engine
    engine.dispose()


def check(engine: Engine) -> audit.VerifyResult:
    with Session(engine) as session:
        return audit.verify_session(session, {SIGNER.public_key})


def sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_an_untouched_chain_verifies(engine: Engine) -> None:
    assert check(engine) == audit.VerifyResult(True, 10)


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (["UPDATE audit_records SET reason = '改过' WHERE seq = 3"], 3, "content"),
        (["DELETE FROM audit_records WHERE seq = 4"], 5, "expected seq 4"),
        (["DELETE FROM audit_records WHERE seq = 10"], 10, "missing"),
        (
            [
                "INSERT INTO audit_records (actor, actor_role, action, outcome, occurred_at,"
                " details, seq, recorded_at, prev_hash, hash)"
                " SELECT actor, actor_role, action, outcome, occurred_at, details, 11,"
                " recorded_at, hash, hash FROM audit_records WHERE seq = 10"
            ],
            11,
            "beyond the head",
        ),
        (
            [
                "UPDATE audit_records SET seq = -6 WHERE seq = 6",
                "UPDATE audit_records SET seq = 6 WHERE seq = 7",
                "UPDATE audit_records SET seq = 7 WHERE seq = -6",
            ],
            6,
            "prev_hash",
        ),
    ],
    ids=["edit", "delete", "delete-last", "insert", "reorder"],
)
def test_each_kind_of_tampering_is_found_and_named(
    engine: Engine, tamper: list[str], first_bad: int, problem: str
) -> None:
    sql(engine, *tamper)
    result = check(engine)
    assert not result.ok and result.first_bad_seq == first_bad
    assert problem in (result.problem or "")


def test_a_rewritten_chain_with_fresh_hashes_breaks_at_the_signed_checkpoint(
    engine: Engine,
) -> None:
    """Someone with database access but not the signing key edits record 3 and recomputes
    every hash after it: the chain is consistent again, the checkpoint at 5 is not."""
    with Session(engine) as session:
        records = [session.get(AuditRecord, seq) for seq in range(1, 11)]
        prev = records[1].hash if records[1] else ""
        for record in records[2:]:
            assert record is not None
            if record.seq == 3:
                record.reason = "改过"
            record.prev_hash = prev
            record.hash = record.compute_hash()
            prev = record.hash
            session.add(record)
        session.exec(text("UPDATE audit_head SET hash = :h").bindparams(h=prev))  # type: ignore[call-overload]
        session.commit()
    result = check(engine)
    assert not result.ok and result.first_bad_seq == 5
    assert result.problem == "chain does not match its signed checkpoint"


def test_a_checkpoint_signed_with_another_key_is_refused(engine: Engine) -> None:
    with Session(engine) as session:
        assert not audit.verify_session(session, {"00" * 32}).ok


def test_the_export_verifies_on_its_own_and_shows_tampering(engine: Engine) -> None:
    with Session(engine) as session:
        lines = list(jsonl(session))
    assert verify_jsonl(lines, {SIGNER.public_key}).ok
    assert SIGNER.public_key in lines[0]
    forged = [line.replace("第4条", "第四条") for line in lines]
    result = verify_jsonl(forged, {SIGNER.public_key})
    assert not result.ok and result.first_bad_seq == 4
    with Session(engine) as session, Path("/dev/null").open("w") as sink:
        assert write_csv(session, sink) == 10


def test_queries_filter_and_page_through_the_trail(engine: Engine) -> None:
    with Session(engine) as session:
        first = query(session, AuditQuery(case_id="TY20260101-0000000001", limit=4))
        assert [r.seq for r in first.records] == [1, 2, 3, 4] and first.next_after_seq == 4
        rest = query(session, AuditQuery(case_id="TY20260101-0000000001", after_seq=4, limit=100))
        assert [r.seq for r in rest.records] == [5, 6, 7, 8, 9, 10]
        assert rest.next_after_seq is None
        window = query(
            session,
            AuditQuery(
                since=datetime(2026, 1, 1, 8, 3, tzinfo=UTC),
                until=datetime(2026, 1, 1, 8, 5, tzinfo=UTC),
            ),
        )
        assert [r.reason for r in window.records] == ["第3条", "第4条"]
        assert query(session, AuditQuery(case_id="TY-nothing")).records == []


def test_the_newest_page_first_then_older_pages_by_keyset(engine: Engine) -> None:
    case = "TY20260101-0000000001"
    with Session(engine) as session:
        newest = query(session, AuditQuery(case_id=case, newest_first=True, limit=4))
        assert [r.seq for r in newest.records] == [10, 9, 8, 7]
        assert newest.next_before_seq == 7 and newest.next_after_seq is None
        older = query(session, AuditQuery(case_id=case, newest_first=True, before_seq=7, limit=4))
        assert [r.seq for r in older.records] == [6, 5, 4, 3]
        oldest = query(session, AuditQuery(case_id=case, newest_first=True, before_seq=3))
        assert [r.seq for r in oldest.records] == [2, 1] and oldest.next_before_seq is None


def test_records_about_a_person_are_found_by_hash_and_keep_the_chain_valid(
    engine: Engine,
) -> None:
    with session_factory(engine)() as session:
        for action in ("staff.checked", "ban.issued"):
            audit.append(
                session,
                AuditEntry(
                    actor="tester",
                    action=action,
                    person_hash="f" * 64,
                    occurred_at=datetime(2026, 1, 2, 8, tzinfo=UTC),
                ),
            )
        session.commit()
        found = query(session, AuditQuery(person_hash="f" * 64))
        assert [r.action for r in found.records] == ["staff.checked", "ban.issued"]
        assert query(session, AuditQuery(person_hash="0" * 64)).records == []
    assert check(engine).ok
    # The person is part of what the hash covers.
    sql(engine, f"UPDATE audit_records SET person_hash = '{'e' * 64}' WHERE action = 'ban.issued'")
    assert not check(engine).ok
