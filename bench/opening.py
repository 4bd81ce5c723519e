"""What a case's opening costs in the database: `open_case` and the first `record_step`
("case.dispatched") in two transactions, as the case workflow runs them, against the same two
calls in one transaction (the proposal: one local activity and one transaction at the
opening). No Temporal, Kafka or faust: the activities are called directly on a fresh SQLite
database (or `--database-url`), alternating the two ways so that both see the same load.

    python -m bench.opening --n 500

The one-transaction way is measured by handing both calls one session whose commit is held
until the second is done: the same statements, one BEGIN IMMEDIATE and one COMMIT less, and
the second call finds the case in the session instead of reading it again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session

from infra.db import SessionFactory, make_engine, session_factory
from infra.deadlines import load_policy
from infra.migrate import prepare_database
from infra.vault import Vault
from models.actors import SYSTEM
from models.cases import CaseStatus, case_id_for, workflow_id_for
from models.complaints import Category, Channel, ComplaintReceived
from models.notifications import NotificationKind
from models.workflow_io import CaseState, NotificationSpec, OpenCaseInput, RecordStep
from workflows.cases.activities import CaseActivities


class HeldSession:
    """One session for several `with sessions() as s:` blocks; commits only on `release`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._commit = session.commit
        session.commit = lambda: session.flush()  # type: ignore[method-assign]

    def __call__(self) -> HeldSession:
        return self

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *_: Any) -> None:
        return None

    def release(self) -> None:
        self._commit()
        self.session.close()


def complaint(i: int, run: str) -> ComplaintReceived:
    return ComplaintReceived(
        event_id=f"opening-{run}-{i}",
        occurred_at=datetime.now(UTC),
        channel=Channel.HOTLINE,
        category=Category.HEALTH_MANAGEMENT,
        town="town-lushan",
        institution_name=f"开办基准机构{run}-{i}",
        description="基准测试投诉",
    )


def dispatched(params: OpenCaseInput, opened: Any) -> RecordStep:
    """The step the workflow records right after `open_case`, as `_open` builds it."""
    routing = opened.routing
    state = CaseState(
        case_id=params.case_id,
        status=CaseStatus.DISPATCHED,
        category=params.complaint.category,
        priority=routing.priority,
        town=routing.town,
        lead=routing.lead,
        handler=routing.handler,
        level=routing.level,
        round=1,
        round_started_at=params.now,
        deadlines=opened.deadlines,
        received_at=params.complaint.occurred_at,
        step=1,
    )
    return RecordStep(
        state=state,
        action="case.dispatched",
        actor=SYSTEM,
        details={"handler": routing.handler, "level": routing.level, "to": [routing.handler]},
        occurred_at=datetime.now(UTC),
        notifications=[NotificationSpec(kind=NotificationKind.DISPATCH, recipient=routing.handler)],
        new_round=True,
    )


def open_input(i: int, run: str) -> OpenCaseInput:
    c = complaint(i, run)
    case_id = case_id_for(c.event_id, c.occurred_at)
    return OpenCaseInput(
        case_id=case_id, workflow_id=workflow_id_for(case_id), complaint=c, now=datetime.now(UTC)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'opening.db'}"
    prepare_database(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    policy = load_policy()
    vault = Vault(os.urandom(32))
    two = CaseActivities(sessions, policy, vault)
    run = uuid.uuid4().hex[:8]
    times: dict[str, list[float]] = {"two transactions": [], "one transaction": []}
    load = os.getloadavg()[0]
    for i in range(args.n):
        params = open_input(2 * i, run)
        began = time.perf_counter()
        step = dispatched(params, two.open_case(params))
        two.record_step(step)
        times["two transactions"].append(time.perf_counter() - began)

        params = open_input(2 * i + 1, run)
        began = time.perf_counter()
        held = HeldSession(sessions())
        one = CaseActivities(cast(SessionFactory, held), policy, vault)
        step = dispatched(params, one.open_case(params))
        one.record_step(step)
        held.release()
        times["one transaction"].append(time.perf_counter() - began)
    engine.dispose()
    print(f"{'opening (open_case + case.dispatched)':<40}{'median ms':>10}{'p90 ms':>10}")
    for name, values in times.items():
        values.sort()
        median, p90 = statistics.median(values), values[int(len(values) * 0.9)]
        print(f"{name:<40}{median * 1000:>10.2f}{p90 * 1000:>10.2f}")
    saved = statistics.median(times["two transactions"]) - statistics.median(
        times["one transaction"]
    )
    print(f"{'saved per opening':<40}{saved * 1000:>10.2f}")
    print(f"load average (1 min) at start, end: {load:.2f}, {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
