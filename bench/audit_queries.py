"""Audit query latency at scale: a case's timeline and an institution's full history.

    python -m bench.audit_queries --records 1000000 [--database-url URL]

Builds a real hash-chained trail of N records in a fresh database (SQLite in a temp dir by
default; or an empty PostgreSQL database), then times the API's own query function. Targets
from the audit issue: p95 under 50 ms for a case timeline (about 20 records) and under 200
ms for an institution's full history (about 1,000 records); under 20 ms for the page an
institution's file opens on (its newest 100, older pages by keyset). Printed with a primary-key
lookup measured in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from infra.audit_queries import query
from infra.db import make_engine
from infra.migrate import prepare_database
from models.audit import GENESIS_HASH, AuditHead, AuditQuery, AuditRecord

PER_CASE = 20
PER_INSTITUTION = 1000


def build(url: str, n: int) -> None:
    prepare_database(url)
    engine = make_engine(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev, batch = GENESIS_HASH, []
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            record = AuditRecord(
                seq=seq,
                actor="bench",
                action="case.note",
                case_id=f"TY-{seq % (n // PER_CASE):07d}",
                institution=f"机构{seq % (n // PER_INSTITUTION):05d}",
                occurred_at=start + timedelta(seconds=seq),
                recorded_at=start + timedelta(seconds=seq),
                details={"n": seq},
                prev_hash=prev,
                hash="",
            )
            record.hash = prev = record.compute_hash()
            batch.append(record.model_dump())
            if len(batch) == 20000:
                conn.execute(insert(AuditRecord), batch)
                batch = []
        if batch:
            conn.execute(insert(AuditRecord), batch)
        conn.execute(insert(AuditHead), [{"id": 1, "seq": n, "hash": prev}])
    engine.dispose()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def timed(session: Session, run: Callable[[], object], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
        session.expire_all()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database; default: SQLite in /tmp")
    parser.add_argument("--out", type=Path, default=Path("bench/results/audit_queries.json"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit.db'}"
    n = args.records

    began = time.perf_counter()
    build(url, n)
    built = time.perf_counter() - began
    engine = make_engine(url, writer=False)
    rng = random.Random(7)
    with Session(engine) as session:
        cases = [f"TY-{rng.randrange(n // PER_CASE):07d}" for _ in range(300)]
        institutions = [f"机构{rng.randrange(n // PER_INSTITUTION):05d}" for _ in range(100)]
        it_case, it_inst = iter(cases), iter(institutions)
        baseline = timed(session, lambda: session.get(AuditRecord, rng.randrange(1, n)), 300)
        case = timed(
            session, lambda: query(session, AuditQuery(case_id=next(it_case), limit=1000)), 300
        )
        institution = timed(
            session,
            lambda: query(session, AuditQuery(institution=next(it_inst), limit=1000)),
            100,
        )
        it_page = iter(institutions * 3)
        newest = timed(
            session,
            lambda: query(
                session, AuditQuery(institution=next(it_page), newest_first=True, limit=100)
            ),
            300,
        )
    engine.dispose()
    result = {
        "records": n,
        "database": url.split(":")[0],
        "build_seconds": round(built, 1),
        "p95_ms": {
            "primary_key_lookup (baseline)": round(p95(baseline), 2),
            "case_timeline": round(p95(case), 2),
            "institution_history": round(p95(institution), 2),
            "institution_newest_page": round(p95(newest), 2),
        },
        "target_ms": {
            "case_timeline": 50,
            "institution_history": 200,
            "institution_newest_page": 20,
        },
    }
    result["ratio_to_target"] = {
        k: round(result["p95_ms"][k] / v, 3) for k, v in result["target_ms"].items()
    }
    result["ratio_to_baseline"] = {
        k: round(result["p95_ms"][k] / result["p95_ms"]["primary_key_lookup (baseline)"], 1)
        for k in ("case_timeline", "institution_history", "institution_newest_page")
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
