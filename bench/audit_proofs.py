"""Merkle proofs of the audit log at scale: how long a proof takes on a long trail.

    python -m bench.audit_proofs --records 1000000 [--database-url URL]

Builds a real hash-chained trail of N records (bench.audit_queries' builder), signs its
first tree head (which stores the tree's perfect subtrees, about 2 N rows), then times what
the API does for `GET /audit/{seq}/proof` and `GET /audit/consistency`, each proof checked
by the pure verifier; and one checkpoint after 1,000 more records (the worker's per-minute
work). Target: a proof in well under a second at a million records.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from bench.audit_queries import build
from infra import audit, audit_proofs
from infra.db import make_engine, session_factory
from infra.signing import AuditSigner
from models.audit import AuditEntry


def ms(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=20)
    return {
        "p50": round(statistics.median(samples) * 1000, 2),
        "p95": round(q[18] * 1000, 2),
        "max": round(max(samples) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database; default: SQLite in /tmp")
    parser.add_argument("--out", type=Path, default=Path("bench/results/audit_proofs.json"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit.db'}"
    n, signer, rng = args.records, AuditSigner(Ed25519PrivateKey.generate()), random.Random(7)
    trusted = {signer.public_key}

    began = time.perf_counter()
    build(url, n)
    built = time.perf_counter() - began
    engine = make_engine(url)
    sessions = session_factory(engine)
    began = time.perf_counter()
    with sessions() as session:
        audit.checkpoint(session, signer)
        session.commit()
    first_tree = time.perf_counter() - began

    inclusion, consistency = [], []
    with Session(engine) as session:
        for _ in range(200):
            seq = rng.randrange(1, n + 1)
            t = time.perf_counter()
            proof = audit_proofs.inclusion(session, seq)
            inclusion.append(time.perf_counter() - t)
            assert audit_proofs.check_inclusion(proof, trusted) is None
            session.expire_all()
        for _ in range(200):
            first = rng.randrange(1, n + 1)
            t = time.perf_counter()
            joined = audit_proofs.consistency(session, first, n)
            consistency.append(time.perf_counter() - t)
            assert audit_proofs.check_consistency(joined, trusted) is None
            session.expire_all()

    with sessions() as session:
        for i in range(1000):
            now = datetime.now(UTC)
            entry = AuditEntry(actor="bench", action="case.note", occurred_at=now, details={"i": i})
            audit.append(session, entry)
        session.commit()
    began = time.perf_counter()
    with sessions() as session:
        audit.checkpoint(session, signer)
        session.commit()
    incremental = time.perf_counter() - began
    engine.dispose()
    result = {
        "records": n,
        "database": url.split(":")[0],
        "build_records_seconds": round(built, 1),
        "first_tree_head_seconds (stores every subtree)": round(first_tree, 1),
        "checkpoint_after_1000_more_seconds": round(incremental, 3),
        "inclusion_proof_ms (200 random records)": ms(inclusion),
        "consistency_proof_ms (200 random first sizes to N)": ms(consistency),
        "target": "a proof in well under a second",
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
