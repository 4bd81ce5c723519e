"""Record a workflow history for `tests/test_history_replay.py`.

    .venv/bin/python -m tests.record_history --list
    .venv/bin/python -m tests.record_history enforcement-ban-decisions-reinspection [...]

Each name is a scenario of `tests/history_scenarios.py`; it runs on a private time-skipping
server with the same worker as the `case_env` fixture (every workflow, the real activities on
a fresh SQLite database, Kafka replaced by a recorder), and the history of the scenario's
workflow is written to `tests/data/histories/<name>.json`, after a replay on this code.

The payloads are written in clear (the plain pydantic converter, no payload codec): the
tests' vault key is made afresh for every test run, so an encrypted history would not decrypt
in the next run; the stack's converter passes clear payloads through on replay.

Record from a clean checkout of the commit the history stands for, then add its row to
`tests/data/histories/README.md` (the commit is printed). Never re-record an existing file
after changing a workflow: the old file is what proves that old runs still replay; record a
new one next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from infra.claim_check import ClaimCheckStore
from infra.db import make_engine, session_factory
from infra.deadlines import load_enforcement, load_policy
from infra.migrate import prepare_database
from infra.outbox import Relay
from infra.poison import DeterministicErrors
from infra.servers import venv_binary
from infra.vault import Vault
from tests.case_env import TASK_QUEUE, CaseEnv, RecordingPublisher, WorkflowsSeen
from tests.history_scenarios import SCENARIOS
from tests.refusing import RefusingCaseActivities, RefusingInspectionActivities
from workers.temporal_worker import WORKFLOWS
from workflows.alarms.activities import AlarmActivities
from workflows.cases import search
from workflows.enforcement.activities import EnforcementActivities
from workflows.parking.activities import ParkingActivities
from workflows.registry.activities import RegistryActivities

HISTORIES = Path(__file__).parent / "data" / "histories"


@asynccontextmanager
async def recording_env() -> AsyncIterator[CaseEnv]:
    """As the `case_env` fixture of tests/conftest.py, but with payloads in clear."""
    with tempfile.TemporaryDirectory(prefix="tuoyu-record-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'tuoyu.db'}"
        prepare_database(url)
        engine = make_engine(url)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=venv_binary("temporal-test-server"),
            data_converter=pydantic_data_converter,
        )
        try:
            await search.register(env.client, "default")
            sessions = session_factory(engine)
            publisher = RecordingPublisher()
            publisher.drain = Relay(sessions, engine, publisher).drain  # the outbox, as case_env
            policy = load_policy()
            claims = ClaimCheckStore(data_dir, 900_000)
            vault = Vault(b"r" * 32, [])  # seals complainants in activities' rows only
            activities = [
                *RefusingCaseActivities(sessions, policy, vault).all(),
                *EnforcementActivities(sessions, load_enforcement()).all(),
                *RegistryActivities(sessions).all(),
                *RefusingInspectionActivities(sessions).all(),
                *AlarmActivities(sessions, claims).all(),
                *ParkingActivities(sessions, claims).all(),
            ]
            seen = WorkflowsSeen()
            with ThreadPoolExecutor(max_workers=4) as executor:
                async with Worker(
                    env.client,
                    task_queue=TASK_QUEUE,
                    workflows=WORKFLOWS,
                    activities=activities,
                    activity_executor=executor,
                    interceptors=[DeterministicErrors(), seen],
                ):
                    yield CaseEnv(env, sessions, publisher, policy, seen)
        finally:
            await env.shutdown()
            engine.dispose()


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def commit() -> str:
    """The commit the history is recorded on (`+dirty` when workflows/ or models/ have
    changes not committed), and the last commit that changed them."""
    head = _git("rev-parse", "--short", "HEAD")
    dirty = "+dirty" if _git("status", "--porcelain", "--", "workflows", "models") else ""
    changed = _git("log", "-1", "--format=%h", "--", "workflows", "models")
    return f"{head}{dirty} (workflows/ and models/ last changed in {changed})"


async def record(names: list[str], into: Path = HISTORIES) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    async with recording_env() as case_env:
        for name in names:
            scenario = SCENARIOS[name]
            handle = await scenario.run(case_env)
            history = await handle.fetch_history()
            await replayer.replay_workflow(history)
            (into / f"{name}.json").write_text(history.to_json() + "\n")
            print(f"{name}.json  {scenario.workflow_type}  {len(history.events)} events")
            await case_env.end_workflows()
    print(f"recorded on {commit()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCENARIOS]
    if args.list or not args.names or unknown:
        for name, scenario in SCENARIOS.items():
            print(f"{name:48} {scenario.workflow_type:28} {scenario.description}")
        return 2 if unknown else 0
    asyncio.run(record(args.names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
