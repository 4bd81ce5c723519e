"""Cutting the audit trail short, emptying it, rewriting it after its last checkpoint or
re-signing it with a new key: each is caught by `tuoyu audit verify` against the tree heads
witnessed outside the database, under the operator's pinned key. Each test has a database
of its own on the leg's server (SQLite or PostgreSQL), since it tampers with it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from infra import audit, audit_tree, merkle
from infra.audit_export import jsonl, verify_jsonl
from infra.audit_proofs import check_consistency, check_inclusion
from infra.audit_witness import (
    Publisher,
    catch_up,
    read_file,
    read_topic,
    sign_and_witness,
    witness_file,
)
from infra.db import make_engine, session_factory
from infra.migrate import prepare_database
from infra.process import free_port
from infra.settings import Settings
from infra.signing import AuditSigner, key_file, load_signer, pinned_keys, write_pin
from models import topics
from models.audit import AuditEntry, AuditRecord, ConsistencyProof, InclusionProof
from tests.audit_db import own_database
from tests.auth import Tokens
from tests.polling import wait_for_case
from workers.stack import Stack, child_env

BIN = Path(sys.executable).parent


@dataclass
class Trail:
    settings: Settings
    engine: Engine
    pinned: str

    def tuoyu(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        """The CLI as an operator runs it; an env value of None unsets that variable."""
        full = {**child_env(self.settings), "PATH": str(BIN), "COLUMNS": "200", **env}
        return subprocess.run(
            [str(BIN / "tuoyu"), *args],
            env={k: v for k, v in full.items() if v is not None},
            capture_output=True,
            text=True,
        )

    def sql(self, *statements: str) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    def append(self, *reasons: str) -> None:
        with session_factory(self.engine)() as session:
            for reason in reasons:
                audit.append(
                    session,
                    AuditEntry(
                        actor="tester",
                        action="case.note",
                        reason=reason,
                        occurred_at=datetime(2026, 1, 1, 8, tzinfo=UTC),
                    ),
                )
            session.commit()

    def checkpoint(self, publisher: Publisher | None = None) -> None:
        signer = load_signer(self.settings)
        sign_and_witness(self.settings, session_factory(self.engine), signer, publisher)


@pytest.fixture
def trail(tmp_path: Path, database_url: str) -> Iterator[Trail]:
    """Ten records, tree heads signed and witnessed at 5 and 10; no broker reachable."""
    data = tmp_path / "data"
    url = own_database(database_url, tmp_path)
    settings = Settings(data_dir=data, database_url=url, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    pin = tmp_path / "operator" / "audit-public.key"
    pinned = write_pin(settings, pin).public_key
    settings.audit_public_key_file = pin
    prepare_database(url)
    engine = make_engine(url)
    made = Trail(settings, engine, pinned)
    made.append(*(f"第{i}条" for i in range(1, 6)))
    made.checkpoint()
    made.append(*(f"第{i}条" for i in range(6, 11)))
    made.checkpoint()
    yield made
    engine.dispose()


def test_two_workers_signing_at_once_sign_the_head_once(trail: Trail) -> None:
    """Two Temporal workers run the checkpoint round at the same moment: the second waits
    for the first and finds the head signed (before: a unique violation of the tree)."""
    trail.append("第11条", "第12条")
    signer = load_signer(trail.settings)
    sessions = session_factory(trail.engine)
    outcome: list[object] = []

    def second() -> None:
        try:
            with sessions() as session:
                outcome.append(audit.checkpoint(session, signer))
                session.commit()
        except Exception as exc:  # what the first version raised
            outcome.append(exc)

    with sessions() as first:
        assert audit.checkpoint(first, signer) is not None  # signed, not yet committed
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(2.0)  # its chance to collide with the open transaction: it must wait
        first.commit()
    racer.join()
    assert outcome == [None]


def record_hash(trail: Trail, seq: int) -> str:
    with Session(trail.engine) as session:
        record = session.get(AuditRecord, seq)
        assert record is not None
        return record.hash


def rehash_from(trail: Trail, seq: int, edit: str) -> None:
    """An attacker with the database but not the key: edit a record, recompute every hash
    after it and the head, so the chain is consistent again."""
    with Session(trail.engine) as session:
        before = session.get(AuditRecord, seq - 1)
        prev = before.hash if before else "0" * 64
        last = session.exec(select(func.max(AuditRecord.seq))).one() or 0
        for s in range(seq, last + 1):
            record = session.get(AuditRecord, s)
            assert record is not None
            if s == seq:
                record.reason = edit
            record.prev_hash, record.hash = prev, ""
            record.hash = record.compute_hash()
            prev = record.hash
            session.add(record)
        session.commit()
    trail.sql(f"UPDATE audit_head SET hash = '{prev}'")


def broken(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "intact" not in result.stdout
    for word in words:
        assert word in result.stdout, result.stdout


def test_an_untouched_trail_verifies_against_its_witness(trail: Trail) -> None:
    heads = read_file(witness_file(trail.settings))
    assert [h.tree_size for h in heads] == [5, 10]
    assert witness_file(trail.settings).stat().st_mode & 0o777 == 0o600
    result = trail.tuoyu("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 10 records" in result.stdout
    assert "witnessed tree head of 10" in result.stdout


def test_truncating_the_newest_rewinding_the_head_and_deleting_checkpoints_is_caught(
    trail: Trail,
) -> None:
    seventh = record_hash(trail, 7)
    trail.sql(
        "DELETE FROM audit_records WHERE seq > 7",
        f"UPDATE audit_head SET seq = 7, hash = '{seventh}'",
        "DELETE FROM audit_checkpoints WHERE seq > 7",
    )
    broken(trail.tuoyu("audit", "verify"), "record 8", "records 8..10 are missing")
    # Nor will the trail sign the shorter tree as if it were new.
    assert trail.tuoyu("audit", "checkpoint").returncode == 1
    assert [h.tree_size for h in read_file(witness_file(trail.settings))] == [5, 10]


def test_deleting_everything_is_caught(trail: Trail) -> None:
    trail.sql(
        "DELETE FROM audit_records",
        "DELETE FROM audit_head",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_tree_nodes",
    )
    broken(trail.tuoyu("audit", "verify"), "record 1", "records 1..10 are missing")


def test_a_rewrite_after_the_last_checkpoint_is_caught_and_located(trail: Trail) -> None:
    rehash_from(trail, 8, "改过")
    trail.sql("DELETE FROM audit_checkpoints WHERE seq > 5", "DELETE FROM audit_tree_nodes")
    broken(trail.tuoyu("audit", "verify"), "record 6", "records 6..10 differ")


def test_a_chain_re_signed_with_a_new_key_after_moving_the_key_file_is_caught(
    trail: Trail, tmp_path: Path
) -> None:
    shutil.move(key_file(trail.settings), tmp_path / "stolen.key")
    rehash_from(trail, 3, "改过")
    trail.sql("DELETE FROM audit_checkpoints", "DELETE FROM audit_tree_nodes")
    signed = trail.tuoyu("audit", "checkpoint")  # makes a new key and signs with it
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert load_signer(trail.settings).public_key != trail.pinned
    broken(trail.tuoyu("audit", "verify"), "unknown key")


def test_without_a_pinned_key_nothing_is_called_intact(trail: Trail) -> None:
    result = trail.tuoyu("audit", "verify", TUOYU_AUDIT_PUBLIC_KEY_FILE=None)
    assert result.returncode == 2 and "intact" not in result.stdout
    assert "no pinned audit public key" in result.stdout
    # A "pin" inside the data dir is the key found next to the data: refused.
    inside = trail.settings.data_dir / "pin.key"
    inside.write_text(trail.pinned)
    result = trail.tuoyu("audit", "verify", TUOYU_AUDIT_PUBLIC_KEY_FILE=str(inside))
    assert result.returncode == 2 and "inside the data dir" in result.stdout


def test_an_export_is_never_intact_without_a_trusted_key(trail: Trail) -> None:
    with Session(trail.engine) as session:
        lines = list(jsonl(session))
    assert verify_jsonl(lines, {trail.pinned}).ok
    refused = verify_jsonl(lines)
    assert not refused.ok and "no pinned public key" in (refused.problem or "")


def test_an_export_altered_rehashed_and_re_signed_with_a_new_key_is_caught(
    trail: Trail,
) -> None:
    rehash_from(trail, 4, "第四条")
    trail.sql("DELETE FROM audit_checkpoints", "DELETE FROM audit_tree_nodes")
    forger = AuditSigner(Ed25519PrivateKey.generate())
    with Session(trail.engine) as session:
        audit.checkpoint(session, forger)
        session.commit()
        forged = list(jsonl(session))
    assert forger.public_key in forged[0]  # the export names the forger's key
    assert verify_jsonl(forged, {forger.public_key}).ok  # which is why it is not trusted
    result = verify_jsonl(forged, {trail.pinned})
    assert not result.ok and result.problem == "checkpoint signed by an unknown key"
    # With the witnessed heads too, the altered range is named.
    witnessed = read_file(witness_file(trail.settings))
    result = verify_jsonl(forged, {trail.pinned, forger.public_key}, witnessed)
    assert not result.ok and result.first_bad_seq == 1
    assert result.problem == "records 1..5 differ from the witnessed tree head of 5"


def test_the_cli_proves_inclusion_and_consistency(trail: Trail) -> None:
    proved = trail.tuoyu("audit", "prove", "7")
    assert proved.returncode == 0, proved.stdout + proved.stderr
    proof = InclusionProof.model_validate_json(proved.stdout[: proved.stdout.rindex("}") + 1])
    assert proof.record_hash == record_hash(trail, 7) and proof.tree_head.tree_size == 10
    leaf, root = bytes.fromhex(proof.leaf_hash), bytes.fromhex(proof.tree_head.root_hash)
    path = [bytes.fromhex(p) for p in proof.audit_path]
    assert merkle.verify_inclusion(6, 10, leaf, path, root)
    assert not merkle.verify_inclusion(5, 10, leaf, path, root)
    older = trail.tuoyu("audit", "prove", "3", "--tree-size", "5")
    assert older.returncode == 0 and '"tree_size": 5' in older.stdout
    assert trail.tuoyu("audit", "prove", "11").returncode == 1  # not signed yet
    assert trail.tuoyu("audit", "prove", "7", "--tree-size", "6").returncode == 1

    joined = trail.tuoyu("audit", "consistency", "5", "10")
    assert joined.returncode == 0, joined.stdout + joined.stderr
    body = joined.stdout[: joined.stdout.rindex("}") + 1]
    consistency = ConsistencyProof.model_validate_json(body)
    assert consistency.first_head and consistency.second_head
    assert consistency.first_root == consistency.first_head.root_hash
    nodes = [bytes.fromhex(p) for p in consistency.proof]
    first, second = bytes.fromhex(consistency.first_root), bytes.fromhex(consistency.second_root)
    assert merkle.verify_consistency(5, 10, first, second, nodes)
    assert not merkle.verify_consistency(5, 10, second, first, nodes)
    assert trail.tuoyu("audit", "consistency", "10", "5").returncode == 1


class FlakyPublisher:
    def __init__(self) -> None:
        self.up = False
        self.sent: list[tuple[str, int]] = []

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        if not self.up:
            raise TimeoutError("broker down")
        self.sent += [(topic, json.loads(v)["tree_size"]) for _, v in messages]


def test_a_head_the_topic_missed_is_in_the_file_and_published_at_the_next_round(
    trail: Trail,
) -> None:
    publisher = FlakyPublisher()
    trail.append("第11条")
    trail.checkpoint(publisher)
    assert [h.tree_size for h in read_file(witness_file(trail.settings))][-1] == 11
    publisher.up = True
    trail.checkpoint(publisher)  # nothing new to sign: the pending heads go out
    assert publisher.sent == [(topics.AUDIT_CHECKPOINTS, s) for s in (5, 10, 11)]
    trail.append("第12条")
    trail.checkpoint(publisher)
    assert publisher.sent[-1] == (topics.AUDIT_CHECKPOINTS, 12)
    assert len(publisher.sent) == 4


async def test_the_running_stack_proves_records_and_witnesses_heads_on_the_topic(
    stack: Stack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    posted = await http.post(
        "/api/v1/complaints",
        json={"category": "other", "town": "town-lushan", "description": "审计证明测试"},
    )
    await wait_for_case(http, posted.json()["case_id"], handler="town-lushan")
    env = {**child_env(stack.settings), "PATH": str(BIN), "COLUMNS": "200"}
    signed = await asyncio.to_thread(
        subprocess.run, ["tuoyu", "audit", "checkpoint"], env=env, capture_output=True, text=True
    )
    assert signed.returncode == 0 and "and the topic" in signed.stdout, signed.stdout
    trusted = pinned_keys(stack.settings)
    auditor = tokens.headers("auditor")
    size = read_file(witness_file(stack.settings))[-1].tree_size
    answer = await http.get("/api/v1/audit/1/proof", headers=auditor)
    assert answer.status_code == 200, answer.text
    proof = InclusionProof.model_validate(answer.json())
    assert proof.tree_head.tree_size >= size and check_inclusion(proof, trusted) is None
    forged = proof.model_copy(update={"record_hash": "ab" * 32})
    assert check_inclusion(forged, trusted) is not None
    joined = await http.get(
        "/api/v1/audit/consistency", params={"first": 1, "second": size}, headers=auditor
    )
    assert joined.status_code == 200, joined.text
    assert check_consistency(ConsistencyProof.model_validate(joined.json()), trusted) is None
    unsigned = await http.get(f"/api/v1/audit/{2**31 - 1}/proof", headers=auditor)
    assert unsigned.status_code == 409 and unsigned.json()["error"]["code"] == "not_yet_signed"
    refused = await http.get("/api/v1/audit/1/proof", headers=tokens.headers("town", "town-lushan"))
    assert refused.status_code == 403

    on_topic = await asyncio.to_thread(read_topic, stack.settings)
    assert size in {h.tree_size for h in on_topic}
    verified = await asyncio.to_thread(
        subprocess.run, ["tuoyu", "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0 and "the topic" in verified.stdout, verified.stdout


def test_a_long_way_behind_the_tree_catches_up_a_chunk_a_transaction(trail: Trail) -> None:
    trail.append(*(f"第{i}条" for i in range(11, 21)))
    catch_up(session_factory(trail.engine), chunk=3)
    with Session(trail.engine) as session:
        assert 17 <= audit_tree.size(session) < 20
    trail.checkpoint()
    assert read_file(witness_file(trail.settings))[-1].tree_size == 20
    result = trail.tuoyu("audit", "verify", "--no-topic")
    assert result.returncode == 0 and "intact: 20 records" in result.stdout, result.stdout
