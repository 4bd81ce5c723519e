"""Real servers, started once per test session on free ports.

`TUOYU_TEST_BROKER` (tansu | kafka) and `TUOYU_TEST_DATABASE` (sqlite | postgresql) pick the
leg of the matrix; `TUOYU_TEST_TOPOLOGY=cluster` the production shape (tests/topology.py);
`make test` runs every leg.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra.claim_check import ClaimCheckStore
from infra.codec import data_converter
from infra.db import SessionFactory, make_engine, session_factory
from infra.deadlines import load_enforcement, load_policy
from infra.kafka import KafkaPublisher
from infra.migrate import prepare_database
from infra.outbox import Relay
from infra.poison import DeterministicErrors
from infra.postgres import start_postgres
from infra.process import ManagedProcess, free_port
from infra.servers import venv_binary
from infra.settings import Settings
from infra.signing import write_pin
from infra.temporal import connect
from infra.vault import load_vault
from tests import topology
from tests.auth import Tokens
from tests.browser import Web
from tests.case_env import TASK_QUEUE, CaseEnv, RecordingPublisher, WorkflowsSeen
from tests.refusing import RefusingCaseActivities, RefusingInspectionActivities
from workers.stack import Stack
from workers.temporal_worker import WORKFLOWS
from workflows.alarms.activities import AlarmActivities
from workflows.cases import search
from workflows.enforcement.activities import EnforcementActivities
from workflows.parking.activities import ParkingActivities
from workflows.registry.activities import RegistryActivities

log = logging.getLogger("tests")
REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "stack" in fixtures:
            item.add_marker(pytest.mark.integration)
        if "case_env" in fixtures:
            item.add_marker(pytest.mark.database)


@pytest.fixture(autouse=True)
async def end_case_workflows(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After a test on the time-skipping server, its workflows are ended (see WorkflowsSeen)."""
    yield
    if "case_env" in request.fixturenames:
        env: CaseEnv = request.getfixturevalue("case_env")
        await env.end_workflows()


@pytest.fixture(scope="session", autouse=True)
async def no_task_outlives_the_session() -> AsyncIterator[None]:
    """At the end, tasks still running on the session's loop are named and cancelled with a
    deadline: one that ignores its cancellation would otherwise hold the run for ever (the
    loop's close waits for every task)."""
    yield
    me = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    for task in left:
        log.warning("task left at the end of the session: %r", task)
        task.cancel()
    if left:
        _, stuck = await asyncio.wait(left, timeout=10)
        for task in stuck:
            log.error("task ignores its cancellation: %r", task)
            task.print_stack()


@pytest.fixture(scope="session")
def test_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tuoyu")


@pytest.fixture(scope="session")
def database_url(test_data_dir: Path) -> Iterator[str]:
    kind = os.environ.get("TUOYU_TEST_DATABASE", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{test_data_dir / 'tuoyu.db'}"
        return
    assert kind == "postgresql", f"TUOYU_TEST_DATABASE={kind!r}: sqlite or postgresql"
    # Not under pytest's temp dir: that is private to root, and PostgreSQL runs as `postgres`.
    home = Path(tempfile.mkdtemp(prefix="tuoyu-pg-"))
    proc: ManagedProcess
    proc, url = start_postgres(home, free_port())
    try:
        yield url
    finally:
        proc.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(
    test_data_dir: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    broker = os.environ.get("TUOYU_TEST_BROKER", "tansu")
    kafka_port = free_port()
    made = Settings(
        data_dir=test_data_dir,
        broker=broker,
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        kafka_controller_port=free_port(),
        kafka_jars_dir=Path(os.environ.get("TUOYU_KAFKA_JARS_DIR", REPO / ".tuoyu" / "kafka-jars")),
        temporal_address=f"127.0.0.1:{free_port()}",
        database_url=database_url,
        http_port=free_port(),
        sip_port=free_port(),
        temporal_metrics_port=free_port(),
        stream_metrics_port=free_port(),
        sip_metrics_port=free_port(),
        topic_partitions=4,
        log_level="INFO",
        deadlines_file=REPO / "tests" / "data" / "deadlines-fast.toml",
        enforcement_file=REPO / "tests" / "data" / "enforcement-fast.toml",
        alarm_storm_window=4,
        keepalive_timeout=4.0,
        camera_check_interval=1.0,
    )
    # The operator's pin, outside the data dir, made at install as `tuoyu audit pin-key`.
    pin = tmp_path_factory.mktemp("audit-pin") / "audit-public.key"
    write_pin(made, pin)
    made.audit_public_key_file = pin
    return topology.for_topology(made)


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Stack]:
    stack = topology.make_stack(settings).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def sessions(stack: Stack) -> Iterator[SessionFactory]:
    engine = make_engine(stack.settings.resolved_database_url, writer=False)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(sessions: SessionFactory) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture(scope="session")
def tokens(stack: Stack) -> Iterator[Tokens]:
    engine = make_engine(stack.settings.resolved_database_url)
    yield Tokens(session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="session")
async def http(stack: Stack, tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    """Calls as a hotline operator unless a test sends another token."""
    base = f"http://{stack.settings.http_host}:{stack.settings.http_port}"
    headers = tokens.headers("operator")
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as client:
        yield client


@pytest.fixture(scope="session")
def producer(stack: Stack) -> Iterator[KafkaPublisher]:
    publisher = KafkaPublisher(stack.settings.kafka_bootstrap)
    yield publisher
    publisher.close()


@pytest.fixture(scope="session")
async def temporal_client(stack: Stack) -> Client:
    return await connect(stack.settings)


@pytest.fixture(scope="session")
async def time_skipping(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: timers of hours, days and years pass in milliseconds.
    Its payloads are encrypted by the same codec as the stack's."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=data_converter(load_vault(settings)),
    )
    await search.register(env.client, "default")
    try:
        yield env
    finally:
        await env.shutdown()


def own_database(database_url: str, test_data_dir: Path, name: str) -> str:
    """A database of its own on the session's server (SQLite or PostgreSQL, as for the
    stack), so that one outbox relay cannot take another's rows."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{test_data_dir / f'{name}.db'}"
    url = make_url(database_url)
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def case_database_url(database_url: str, test_data_dir: Path) -> str:
    """The time-skipping cases' database: its outbox is drained by the recorder, the
    stack's by its worker."""
    return own_database(database_url, test_data_dir, "tuoyu_cases")


@pytest.fixture(scope="session")
async def case_env(
    time_skipping: WorkflowEnvironment,
    case_database_url: str,
    test_data_dir: Path,
    settings: Settings,
) -> AsyncIterator[CaseEnv]:
    """Case workflows on the time-skipping server, their activities on a database of their
    own; the outbox relay publishes to a recorder."""
    prepare_database(case_database_url)
    engine = make_engine(case_database_url)
    policy = load_policy()
    sessions = session_factory(engine)
    publisher = RecordingPublisher()
    relay = Relay(sessions, engine, publisher)
    publisher.drain = relay.drain
    claims = ClaimCheckStore(test_data_dir, 900_000)
    activities = [
        *RefusingCaseActivities(sessions, policy, load_vault(settings)).all(),
        *EnforcementActivities(sessions, load_enforcement()).all(),
        *RegistryActivities(sessions).all(),
        *RefusingInspectionActivities(sessions).all(),
        *AlarmActivities(sessions, claims).all(),
        *ParkingActivities(sessions, claims).all(),
    ]
    seen = WorkflowsSeen()
    stop = threading.Event()
    relaying = asyncio.create_task(asyncio.to_thread(relay.run, stop, 0.05))
    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with Worker(
                time_skipping.client,
                task_queue=TASK_QUEUE,
                workflows=WORKFLOWS,
                activities=activities,
                activity_executor=executor,
                interceptors=[DeterministicErrors(), seen],
            ):
                yield CaseEnv(time_skipping, session_factory(engine), publisher, policy, seen)
    finally:
        stop.set()
        await relaying
        engine.dispose()


SCREENSHOTS = Path(os.environ.get("TUOYU_SCREENSHOT_DIR", REPO / "test-output" / "screenshots"))


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def web(stack: Stack, browser: Browser) -> AsyncIterator[Web]:
    """A fresh browser context on the stack's web pages; screenshots go to test-output/."""
    context = await browser.new_context(
        base_url=f"http://{stack.settings.http_host}:{stack.settings.http_port}",
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    try:
        yield Web(await context.new_page(), SCREENSHOTS)
    finally:
        await context.close()
