"""Exporting the audit trail so that a third party can verify it without our database.

JSON Lines: a `meta` line (algorithm, canonical form, public keys), then every `record` in
sequence order with its hashes, then every signed `checkpoint`. CSV: the records only, one
row each, for reading rather than verifying.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from sqlmodel import Session

from infra.audit import VerifyResult, checkpoints_of, records_in_order, verify
from infra.csvcells import cell
from models.audit import AuditCheckpoint, AuditRecord, SignedTreeHead

META = {
    "type": "meta",
    "chain": "hash = sha256(prev_hash + canonical(record without hash)); "
    "the first prev_hash is 64 zeros",
    "canonical": "JSON, keys sorted, no spaces, UTF-8, datetimes as UTC ISO 8601; "
    "person_hash left out when null",
    "checkpoint": "Ed25519 over 'tuoyu-audit-checkpoint:{seq}:{hash}' when root_hash is "
    "null; else a signed tree head: Ed25519 over "
    "'tuoyu-audit-sth:v1:{seq}:{root_hash}:{hash}:{signed_at in ms since 1970 UTC}'",
    "merkle": "RFC 9162: leaf = the record's hash (32 bytes), leaf hash = sha256(0x00 || leaf), "
    "node = sha256(0x01 || left || right), leaves in seq order",
}
CSV_COLUMNS = list(AuditRecord.model_fields)


def jsonl(session: Session) -> Iterator[str]:
    points = checkpoints_of(session)
    yield json.dumps({**META, "public_keys": sorted({p.public_key for p in points})})
    for record in records_in_order(session):
        yield json.dumps({"type": "record", **record.model_dump(mode="json")}, ensure_ascii=False)
    for point in points:
        yield json.dumps({"type": "checkpoint", **point.model_dump(mode="json")})


def write_csv(session: Session, out: TextIO) -> int:
    writer = csv.DictWriter(out, CSV_COLUMNS)
    writer.writeheader()
    count = 0
    for record in records_in_order(session):
        row: dict[str, Any] = record.model_dump(mode="json")
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        writer.writerow({k: cell(v) for k, v in row.items()})  # no formula injection
        count += 1
    return count


def verify_jsonl(
    lines: Iterable[str],
    trusted_keys: set[str] | None = None,
    witnessed: Iterable[SignedTreeHead] = (),
) -> VerifyResult:
    """Check an export on its own: the chain, each checkpoint's signature and Merkle root,
    and any witnessed tree heads. Only the verifier's own trusted keys count (never the
    export's `public_keys`): without one the result is never intact."""
    records: list[AuditRecord] = []
    points: list[AuditCheckpoint] = []
    for line in lines:
        item = json.loads(line)
        kind = item.pop("type")
        if kind == "record":
            records.append(AuditRecord.model_validate(item))
        elif kind == "checkpoint":
            points.append(AuditCheckpoint.model_validate(item))
    return verify(records, None, points, trusted_keys, witnessed)
