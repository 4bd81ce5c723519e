"""Upgrade in place: the previous release runs on a data dir and leaves cases in every state
and events on the topics; it is stopped with Ctrl-C, and this code starts on the same data
dir. Migrations apply, every running workflow replays and goes on (a timer set by the old
code fires under the new), the events left behind become cases, the audit trail verifies
across the boundary, and nothing is lost or duplicated.

Runs on Apache Kafka (Tansu keeps nothing across a restart) and SQLite, the default stack."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from infra.audit import verify_session
from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.migrate import prepare_database
from infra.process import free_port, port_open
from infra.settings import Settings
from infra.temporal import connect
from models import topics
from models.audit import AuditRecord
from models.cases import Case
from models.staff import Employment
from tests.factories import complaint_payload, identity_number, registry_event
from tests.polling import eventually, eventually_async, wait_for_case
from tests.release import PREVIOUS_RELEASE, REPO, install
from workers.stack import Stack
from workers.temporal_worker import WORKFLOWS
from workers.upgrade import upgrade_check

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("TUOYU_TEST_BROKER", "tansu") != "kafka",
        reason="an upgrade keeps the broker's log: Apache Kafka only",
    ),
]

# High cases escalate to the city when the town has not accepted twice the acceptance time
# (reminded at 20 s, taken up at 40 s); the city's round runs the same clock, so its notice and
# interview (通报约谈) is due 40 s after the escalation: a timer set by the old code that fires
# after the old stack has stopped (18 s under load; with 3 s it fired 6 s after the
# escalation, before the stop). Everything else as configured.
DEADLINES = """
return_window = "2wd"
escalation_grace = "150s"
duplicate_window = "7d"
[priority.critical]
accept = "1h"
resolve = "24h"
[priority.high]
accept = "20s"
resolve = "1h"
[priority.ordinary]
accept = "1wd"
resolve = "10wd"
[priority.consultation]
accept = "1wd"
resolve = "1wd"
"""


@pytest.fixture(scope="module")
def upgrade_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("upgrade")
    deadlines = home / "deadlines.toml"
    deadlines.write_text(DEADLINES)
    return Settings(
        data_dir=home / "data",
        broker="kafka",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_jars_dir=Path(os.environ.get("TUOYU_KAFKA_JARS_DIR", REPO / ".tuoyu" / "kafka-jars")),
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        http_port=free_port(),
        sip_port=free_port(),
        temporal_metrics_port=free_port(),
        stream_metrics_port=free_port(),
        sip_metrics_port=free_port(),
        deadlines_file=deadlines,
        enforcement_file=REPO / "tests" / "data" / "enforcement-fast.toml",
    )


def old_env(settings: Settings) -> dict[str, str]:
    """The settings the previous release reads (it knows no later setting)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUOYU_")}
    for name in (
        "data_dir", "broker", "kafka_bootstrap", "kafka_controller_port", "kafka_jars_dir",
        "temporal_address", "temporal_ui_port", "http_port", "sip_port",
        "temporal_metrics_port", "stream_metrics_port", "sip_metrics_port",
        "deadlines_file", "enforcement_file",
    ):  # fmt: skip
        env[f"TUOYU_{name.upper()}"] = str(getattr(settings, name))
    return env


class OldStack:
    """`tuoyu up` of the previous release, as an operator runs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.src = install(PREVIOUS_RELEASE)
        self.env = old_env(settings)
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [str(self.src / ".venv" / "bin" / "tuoyu"), *args],
            cwd=self.src,  # never the new checkout: `python -m` would import from it
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return out.stdout

    def start(self) -> None:
        # The previous release draws Kafka's cluster id as URL-safe base64 and passes it as
        # `-t ID`: one id in 64 starts with "-" and StorageTool takes it for an option (fixed
        # since in `infra/servers.new_cluster_id`). Its first start then fails before writing
        # anything; another start draws another id.
        for _ in range(3):
            try:
                self._start()
                return
            except AssertionError as failed:
                text = str(failed)
                if "kafka.tools.StorageTool" not in text or not re.search(r"'-t',\s+'-", text):
                    raise

    def _start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.settings.data_dir / "old-up.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.src / ".venv" / "bin" / "tuoyu"), "up"],
            cwd=self.src,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.settings.http_port}/healthz"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_tail()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the previous release did not start: {self.log_tail()}")

    def stop(self) -> None:
        """Ctrl-C, then wait for every port to be free again."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout=180)
        s = self.settings
        ports = [s.kafka_host_port, s.temporal_host_port, ("127.0.0.1", s.http_port)]
        deadline = time.monotonic() + 60
        while any(port_open(h, p) for h, p in ports) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(port_open(h, p) for h, p in ports), "the previous release left a port"

    def log_tail(self) -> str:
        path = self.settings.data_dir / "old-up.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture(scope="module")
def old_stack(upgrade_settings: Settings) -> Iterator[OldStack]:
    old = OldStack(upgrade_settings)
    yield old
    if old.proc is not None and old.proc.poll() is None:
        os.killpg(old.proc.pid, signal.SIGKILL)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.strip()}"}


async def post(http: httpx.AsyncClient, path: str, body: dict[str, Any], **kw: Any) -> Any:
    answer = await http.post(path, json=body, **kw)
    assert answer.status_code in (200, 202), (path, answer.text)
    return answer.json()


async def test_the_previous_release_upgrades_in_place(
    upgrade_settings: Settings, old_stack: OldStack
) -> None:
    settings = upgrade_settings
    await asyncio.to_thread(old_stack.start)
    operator = bearer(old_stack.cli("users", "add", "op-upgrade", "--role", "operator"))
    health = bearer(
        old_stack.cli("users", "add", "health-upgrade", "--role", "department", "--unit", "health")
    )
    lushan = bearer(
        old_stack.cli("users", "add", "lushan-upgrade", "--role", "town", "--unit", "town-lushan")
    )
    base = f"http://127.0.0.1:{settings.http_port}"
    producer = KafkaPublisher(settings.kafka_bootstrap)
    cases: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=operator) as http:

        async def complain(**fields: Any) -> str:
            payload = complaint_payload(**fields)
            del payload["event_id"], payload["occurred_at"]
            return str((await post(http, "/api/v1/complaints", payload))["case_id"])

        # Under joint punishment (a publicity timer of 24 months), with both people banned.
        suffix = uuid.uuid4().hex[:6]
        kindergarten = f"KL-UP-{suffix}"
        teacher = {"id_number": identity_number(), "name": "张保育员"}
        director = {"id_number": identity_number(), "name": "李园长"}
        for raw in [
            registry_event("institution-registered", institution_id=kindergarten,
                           name=f"西门街道升级托育园{suffix}", town="street-ximen",
                           registrar="samr"),
            registry_event("staff-hired", institution_id=kindergarten, person=director,
                           role="director"),
            registry_event("staff-hired", institution_id=kindergarten, person=teacher,
                           role="nursery-teacher", manager=director),
        ]:  # fmt: skip
            producer.publish(topics.REGISTRY, kindergarten, raw)
        engine = make_engine(settings.resolved_database_url, writer=False)
        sessions = session_factory(engine)

        def employed(institution: str) -> int:
            with sessions() as db:
                rows = db.exec(select(Employment).where(Employment.institution_id == institution))
                return len(rows.all())

        assert await eventually(lambda: employed(kindergarten) == 2)
        abuse = await post(
            http,
            "/api/v1/complaints",
            {
                "category": "child-abuse",
                "town": "street-ximen",
                "institution_id": kindergarten,
                "description": "孩子身上多处淤青。",
            },
        )
        cases["punished"] = abuse["case_id"]
        await wait_for_case(http, cases["punished"], handler="health")
        steps: list[tuple[str, dict[str, Any]]] = [
            ("accept", {"note": "已介入"}),
            (
                "result",
                {"outcome": "substantiated", "findings": "情况属实。", "persons": [teacher]},
            ),
        ]
        for action, body in steps:
            await post(http, f"/api/v1/cases/{cases['punished']}/{action}", body, headers=health)
        await wait_for_case(http, cases["punished"], status="resolved")
        await post(
            http,
            f"/api/v1/cases/{cases['punished']}/joint-punishment",
            {
                "serious": True,
                "publicity_months": 24,
                "legal_basis": "国发〔2016〕33号",
                "reason": "虐童行为经查属实",
            },
            headers=health,
        )

        # Accepted by the town, its resolution timer running.
        cases["accepted"] = await complain(town="town-lushan")
        await wait_for_case(http, cases["accepted"], status="dispatched")
        await post(http, f"/api/v1/cases/{cases['accepted']}/accept", {}, headers=lushan)
        # Dispatched, not yet accepted (a working day to accept).
        cases["dispatched"] = await complain(town="town-lushan")
        await wait_for_case(http, cases["dispatched"], status="dispatched")
        # Escalated to the city; its acceptance runs out under the new code.
        cases["escalated"] = await complain(category="safety-fire", town="town-lushan")
        await wait_for_case(http, cases["escalated"], level="city")

    audit_public_key = old_stack.cli("audit", "public-key").strip()
    await asyncio.to_thread(old_stack.stop)
    stopped_at = datetime.now(UTC)

    # Events produced while nothing runs: they wait on the topics for the new version.
    stack = Stack(settings, temporal_ui=False)
    try:
        # (In a thread: the stack's health probes run event loops of their own.)
        # The broker and Temporal on the same data dir; migrations.
        await asyncio.to_thread(stack.start_servers)
        pending = [complaint_payload(town="street-ximen") for _ in range(5)]
        for payload in pending:
            producer.publish(topics.COMPLAINTS, payload["event_id"], json.dumps(payload).encode())
        newcomer = {"id_number": identity_number(), "name": "赵保育员"}
        producer.publish(
            topics.REGISTRY,
            kindergarten,
            registry_event("staff-hired", institution_id=kindergarten, person=newcomer,
                           role="caregiver", manager=director),
        )  # fmt: skip
        producer.close()

        # Before the workers start on the new code: every open workflow replays on it.
        client = await connect(settings)
        outcomes = await upgrade_check(client, WORKFLOWS)
        assert outcomes and all(o.ok for o in outcomes), [o for o in outcomes if not o.ok]

        await asyncio.to_thread(stack.start_workers)
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=operator) as http:
            # The old code's timer fires under the new: the city did not accept in time.
            await wait_for_case(http, cases["escalated"], level="leading-office", within=300)
            with sessions() as db:
                fired = db.exec(
                    select(AuditRecord.recorded_at).where(
                        AuditRecord.case_id == cases["escalated"],
                        AuditRecord.action == "case.notice-interview",
                    )
                ).all()
            assert fired and max(_aware(t) for t in fired) > stopped_at

            # Updates reach workflows started by the old code.
            await post(
                http,
                f"/api/v1/cases/{cases['accepted']}/result",
                {"outcome": "unsubstantiated", "findings": "经核查，机构已按规定开展晨午检。"},
                headers=lushan,
            )
            await post(http, f"/api/v1/cases/{cases['accepted']}/follow-up", {"satisfied": True})
            await wait_for_case(http, cases["accepted"], status="closed")
            await post(http, f"/api/v1/cases/{cases['dispatched']}/accept", {}, headers=lushan)
            await wait_for_case(http, cases["dispatched"], status="accepted")

            # What waited on the topics is processed, once.
            for payload in pending:
                await wait_for_case(http, _case_id(payload), status="dispatched")
            assert await eventually(lambda: employed(kindergarten) == 3)

        # The joint punishment's workflow still runs (its publicity timer), nothing failed.
        async def no_failed() -> bool:
            failed = [w async for w in client.list_workflows('ExecutionStatus="Failed"')]
            return not failed

        assert await eventually_async(no_failed, within=10)
        running = [
            w.workflow_type async for w in client.list_workflows('ExecutionStatus="Running"')
        ]
        assert "JointPunishmentWorkflow" in running or "EnforcementWorkflow" in running, running

        with sessions() as db:
            ids = [*cases.values(), *(_case_id(p) for p in pending)]
            counted = db.exec(select(func.count()).select_from(Case).where(col(Case.id).in_(ids)))
            assert counted.one() == len(ids)
            every = db.exec(select(func.count()).select_from(Case)).one()
            assert every == len(ids)  # nothing duplicated, nothing extra
            # Under the key the operator pinned from the old install (the new code signs
            # with the same key file in the data dir): the trail verifies across the boundary.
            verdict = verify_session(db, {audit_public_key})
            assert verdict.ok, verdict
        prepare_database(settings.resolved_database_url)  # idempotent on an upgraded database
        engine.dispose()
    finally:
        await asyncio.to_thread(stack.stop)


def _case_id(payload: dict[str, Any]) -> str:
    from models.cases import case_id_for

    return case_id_for(payload["event_id"], datetime.fromisoformat(payload["occurred_at"]))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
