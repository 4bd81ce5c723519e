"""The audit trail: append-only records, each chained to the one before by SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import JSON, Column, Field, SQLModel

from models.bounds import Line, QueryDateTime
from models.timeutil import as_utc

GENESIS_HASH = "0" * 64


# Added to the canonical form only when set (see `AuditRecord.canonical`).
LATER_FIELDS = frozenset({"person_hash"})


class AuditEntry(SQLModel):
    """What a caller says happened; the trail adds sequence, time and hashes."""

    actor: str = Field(max_length=128)
    actor_role: str = Field(default="system", max_length=32)
    actor_unit: str | None = Field(default=None, max_length=64, index=True)
    action: str = Field(max_length=64, index=True)
    channel: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    outcome: str = Field(default="ok", max_length=32)
    case_id: str | None = Field(default=None, max_length=32, index=True)
    institution: str | None = Field(default=None, max_length=200, index=True)
    person_hash: str | None = Field(
        default=None, max_length=64, index=True, description="keyed hash of the person concerned"
    )
    occurred_at: datetime
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class AuditRecord(AuditEntry, table=True):
    __tablename__ = "audit_records"
    # An institution's or a case's newest page is one range scan in sequence order (the
    # single-column indexes leave PostgreSQL sorting every record of a busy institution).
    __table_args__ = (
        Index("ix_audit_records_institution_seq", "institution", "seq"),
        Index("ix_audit_records_case_id_seq", "case_id", "seq"),
    )

    seq: int = Field(primary_key=True)
    recorded_at: datetime
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)

    def canonical(self) -> bytes:
        """Stable bytes for hashing: every datetime as UTC, whatever offset it came with."""
        body = {
            k: as_utc(v).isoformat() if isinstance(v, datetime) else v
            for k, v in self.model_dump(exclude={"hash"}).items()
            # Fields added after the chain began are left out while empty, so that records
            # written before them keep their hashes.
            if not (k in LATER_FIELDS and v is None)
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode() + self.canonical()).hexdigest()


class AuditHead(SQLModel, table=True):
    """One row holding the chain's tip; writers lock it so concurrent workers keep one chain."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default=GENESIS_HASH, max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """The chain's tip at `seq`, signed with the audit key (Ed25519): rewriting the chain
    after a checkpoint, even with every hash recomputed, no longer matches its signature."""

    __tablename__ = "audit_checkpoints"

    seq: int = Field(primary_key=True)
    hash: str = Field(max_length=64)
    signed_at: datetime
    public_key: str = Field(max_length=64, description="Ed25519 public key, hex")
    signature: str = Field(max_length=128, description="Ed25519 signature, hex")
    # Signed tree heads (RFC 9162): set on every checkpoint since the Merkle log began; the
    # signature then covers the tree head (see `infra.signing.tree_head_message`).
    root_hash: str | None = Field(default=None, max_length=64, description="Merkle root, hex")
    key_id: str | None = Field(default=None, max_length=64, description="SHA-256 of the key")

    def tree_head(self) -> SignedTreeHead | None:
        if self.root_hash is None or self.key_id is None:
            return None
        return SignedTreeHead(
            tree_size=self.seq,
            root_hash=self.root_hash,
            chain_hash=self.hash,
            timestamp=self.signed_at,
            key_id=self.key_id,
            public_key=self.public_key,
            signature=self.signature,
        )


class AuditTreeNode(SQLModel, table=True):
    """A perfect subtree of the Merkle log: 2**level leaves from leaf position * 2**level.
    Stored at each checkpoint, so a proof reads about 2 log2(n) rows however long the trail."""

    __tablename__ = "audit_tree_nodes"

    level: int = Field(primary_key=True)
    position: int = Field(primary_key=True)
    hash: str = Field(max_length=64)


class SignedTreeHead(SQLModel):
    """A signed tree head, as the witness keeps it (`tuoyu.audit-checkpoints`, key
    `tuoyu-audit`): the Merkle tree of the first `tree_size` records. `signature` is Ed25519
    over `tuoyu-audit-sth:v1:{tree_size}:{root_hash}:{chain_hash}:{timestamp in ms since
    1970 UTC}`; `key_id` is SHA-256 of the raw public key."""

    tree_size: int = Field(ge=1)
    root_hash: str = Field(min_length=64, max_length=64)
    chain_hash: str = Field(min_length=64, max_length=64, description="hash of record tree_size")
    timestamp: datetime
    key_id: str = Field(min_length=64, max_length=64)
    public_key: str = Field(min_length=64, max_length=64)
    signature: str = Field(min_length=128, max_length=128)


class InclusionProof(SQLModel):
    """RFC 9162 inclusion proof of record `seq` (leaf index seq - 1) in a signed tree head;
    the leaf is the record's hash (32 bytes), hashed as SHA-256(0x00 || leaf)."""

    seq: int
    leaf_index: int
    record_hash: str
    leaf_hash: str
    audit_path: list[str]
    tree_head: SignedTreeHead


class ConsistencyProof(SQLModel):
    """RFC 9162 consistency proof that the tree of `first` records is a prefix of the tree
    of `second`; each side's signed head when one was signed at that size."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
    first_head: SignedTreeHead | None = None
    second_head: SignedTreeHead | None = None


class AuditQuery(SQLModel):
    """Filters of an audit query; pages follow the sequence (`after_seq`)."""

    case_id: Line | None = Field(default=None, max_length=64)
    institution: Line | None = Field(default=None, max_length=300)
    person_hash: Line | None = Field(default=None, max_length=64)
    actor_unit: Line | None = Field(default=None, max_length=64)
    action: Line | None = Field(default=None, max_length=64)
    since: QueryDateTime | None = None
    until: QueryDateTime | None = None
    after_seq: int = Field(default=0, ge=0, le=2**31 - 1)  # seq is a 32-bit integer
    newest_first: bool = Field(
        default=False, description="newest record first; the next page with `before_seq`"
    )
    before_seq: int | None = Field(default=None, ge=1, le=2**31 - 1)
    limit: int = Field(default=100, ge=1, le=1000)


class AuditPage(SQLModel):
    records: list[AuditRecord]
    next_after_seq: int | None = Field(description="pass as after_seq for the next page")
    next_before_seq: int | None = Field(
        default=None, description="newest first: pass as before_seq for the next (older) page"
    )
