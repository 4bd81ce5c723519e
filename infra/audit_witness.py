"""Witnesses of the audit log outside the database: every signed tree head is appended to
`DATA_DIR/audit/witness.jsonl` (mode 0600, one JSON object a line, fsynced) and published
to `tuoyu.audit-checkpoints`. Someone who can rewrite the database, rewind its head and
delete its checkpoints still leaves the largest witnessed tree behind, and `tuoyu audit
verify` holds the database to it.

The file is written first: if the topic cannot be reached, the head is kept there and the
next checkpoint publishes every head the topic has not acknowledged yet.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from infra import audit_tree
from infra.audit import checkpoint
from infra.db import SessionFactory
from infra.settings import Settings
from infra.signing import AuditSigner
from models import topics
from models.audit import AuditHead, SignedTreeHead

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None: ...


KEY = "tuoyu-audit"  # one key, so every head lands on one partition in order


def witness_file(settings: Settings) -> Path:
    return settings.data_dir / "audit" / "witness.jsonl"


def _published_marker(settings: Settings) -> Path:
    return settings.data_dir / "audit" / "witness.published"


def append(path: Path, head: SignedTreeHead) -> None:
    """Append one line and fsync it (and the directory when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (head.model_dump_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def parse(lines: list[str], where: str) -> list[SignedTreeHead]:
    """Every head; a torn last line (a crash mid-write) is skipped, any other bad line is an
    error, since the file is only ever appended to."""
    heads: list[SignedTreeHead] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            heads.append(SignedTreeHead.model_validate_json(line))
        except ValidationError:
            if number == len(lines):
                log.warning("%s: skipping a torn last line", where)
                continue
            raise ValueError(f"{where}: line {number} is not a signed tree head") from None
    return heads


def read_file(path: Path) -> list[SignedTreeHead]:
    if not path.exists():
        return []
    return parse(path.read_text(encoding="utf-8").splitlines(), str(path))


def largest(heads: list[SignedTreeHead]) -> int:
    return max((h.tree_size for h in heads), default=0)


def publish_pending(settings: Settings, publisher: Publisher) -> int:
    """Publish the file's heads the topic has not acknowledged; returns how many."""
    marker = _published_marker(settings)
    done = int(marker.read_text()) if marker.exists() else 0
    pending = [h for h in read_file(witness_file(settings)) if h.tree_size > done]
    if not pending:
        return 0
    messages = [(KEY, h.model_dump_json().encode()) for h in pending]
    publisher.publish_all(topics.AUDIT_CHECKPOINTS, messages)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(str(largest(pending)))
    os.chmod(tmp, 0o600)
    tmp.replace(marker)
    return len(pending)


def witness(settings: Settings, head: SignedTreeHead, publisher: Publisher | None) -> bool:
    """File first, then the topic; True when the topic took it (or had nothing pending)."""
    append(witness_file(settings), head)
    if publisher is None:
        return False
    try:
        publish_pending(settings, publisher)
    except Exception:  # the file has it; the next checkpoint publishes it
        log.exception("could not publish the audit tree head of %s", head.tree_size)
        return False
    return True


def read_topic(settings: Settings, timeout: float = 10.0) -> list[SignedTreeHead]:
    """Every head on the topic, or raise OSError when the broker cannot be reached."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from infra.kafka import client_options

    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
            request_timeout_ms=5000,
            bootstrap_timeout_ms=2000,  # an unreachable broker answers in 2 s, not 30
            **client_options(settings),
        )
    except KafkaError as exc:
        raise OSError(f"Kafka at {settings.kafka_bootstrap}: {exc!r}") from exc
    try:
        found = consumer.partitions_for_topic(topics.AUDIT_CHECKPOINTS) or set()
        parts = [TopicPartition(topics.AUDIT_CHECKPOINTS, p) for p in sorted(found)]
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        lines: list[str] = []
        deadline, idle = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and idle < 3:
            batch = consumer.poll(timeout_ms=300)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                lines.extend(r.value.decode("utf-8", "replace") for r in records)
            if all(consumer.position(p) >= ends[p] for p in parts):
                break
        return parse(lines, topics.AUDIT_CHECKPOINTS)
    except KafkaError as exc:
        raise OSError(f"reading {topics.AUDIT_CHECKPOINTS}: {exc!r}") from exc
    finally:
        consumer.close()


def catch_up(sessions: SessionFactory, chunk: int = 1000) -> None:
    """Extend the stored tree a chunk a transaction while far behind the head (the first
    checkpoint over an existing trail: 0.8 ms a record measured, so a million records in
    one transaction would hold SQLite's write lock, and every audit append, for minutes)."""
    while True:
        with sessions() as session:
            head = session.get(AuditHead, 1)
            stored = audit_tree.size(session)
            if head is None or head.seq - stored <= chunk:
                return
            audit_tree.extend(session, stored + chunk)
            session.commit()


def sign_and_witness(
    settings: Settings, sessions: SessionFactory, signer: AuditSigner, publisher: Publisher | None
) -> tuple[SignedTreeHead | None, bool]:
    """One checkpoint round: sign the tree head if the trail grew, witness it (file, then
    topic); with nothing new, publish whatever the topic has not acknowledged yet. Returns
    the new head, if any, and whether the topic is up to date."""
    catch_up(sessions)
    with sessions() as session:
        point = checkpoint(session, signer, largest(read_file(witness_file(settings))))
        head = point.tree_head() if point is not None else None
        session.commit()
    if head is not None:
        return head, witness(settings, head, publisher)
    if publisher is None:
        return None, False
    try:
        publish_pending(settings, publisher)
    except Exception:
        log.exception("could not publish pending audit tree heads")
        return None, False
    return None, True
