"""The case workflow on the time-skipping test server, with a real (SQLite) database.

Kafka is replaced by a recorder here: these tests are about the ladder's timing and rules;
the notifications' trip over a real broker is covered by the tests on the running stack.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from infra.db import SessionFactory
from models import topics
from models.actors import Actor, Role
from models.cases import case_id_for, workflow_id_for
from models.complaints import ComplaintReceived
from models.credit import CreditPlatformEvent
from models.deadlines import DeadlinePolicy
from models.notifications import DeadLetter, Notification
from models.workflow_io import CaseState, CaseWorkflowInput
from tests.factories import complaint
from workflows.cases.starter import submit_complaint
from workflows.cases.workflows import CaseWorkflow

TASK_QUEUE = "cases-under-test"


@dataclass
class RecordingPublisher:
    """What the outbox relay published. Reading it first drains the outbox (`drain`, set by
    the fixture): a step's activity has committed by the time a test sees the workflow move
    on, so what it wrote is then on the "topic", as it would be a poll later with Kafka."""

    drain: Callable[[], object] = lambda: None
    _sent: list[Notification] = field(default_factory=list)
    _credit: list[CreditPlatformEvent] = field(default_factory=list)
    _dead: list[tuple[str, DeadLetter]] = field(default_factory=list)  # (key, letter)

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        if topic == topics.DEAD_LETTER:
            self._dead.extend((k, DeadLetter.model_validate_json(v)) for k, v in messages)
        elif topic == topics.CREDIT_PLATFORM:
            self._credit.extend(CreditPlatformEvent.model_validate_json(v) for _, v in messages)
        else:
            self._sent.extend(Notification.model_validate_json(value) for _, value in messages)

    @property
    def sent(self) -> list[Notification]:
        self.drain()
        return self._sent

    @property
    def credit(self) -> list[CreditPlatformEvent]:
        self.drain()
        return self._credit

    @property
    def dead(self) -> list[tuple[str, DeadLetter]]:
        self.drain()
        return self._dead

    def to(self, case_id: str, kind: str | None = None) -> list[Notification]:
        return [n for n in self.sent if n.case_id == case_id and (kind is None or n.kind == kind)]


def town(unit: str = "town-lushan") -> Actor:
    return Actor(name="镇办干部", role=Role.TOWN, unit=unit)


def department(unit: str) -> Actor:
    return Actor(name="部门干部", role=Role.DEPARTMENT, unit=unit)


OPERATOR = Actor(name="话务员", role=Role.OPERATOR)
LEADING_OFFICE = Actor(name="领导小组办公室", role=Role.LEADING_OFFICE, unit="leading-office")


class WorkflowsSeen(Interceptor):
    """Remembers every workflow whose activities ran, so that a test's workflows can be ended
    after it: on the shared time-skipping server, cases left running keep timers (a case
    after 通报约谈 reminds every two working days until resolved) that each later skip of
    time has to fire one by one."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Seen(super().intercept_activity(next), self)

    def note(self, workflow_id: str | None) -> None:
        if workflow_id:
            with self._lock:
                self._ids.add(workflow_id)

    def take(self) -> list[str]:
        with self._lock:
            ids, self._ids = sorted(self._ids), set()
        return ids


class _Seen(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, seen: WorkflowsSeen) -> None:
        super().__init__(next)
        self._seen = seen

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self._seen.note(activity.info().workflow_id)
        return await super().execute_activity(input)


@dataclass
class CaseEnv:
    env: WorkflowEnvironment
    sessions: SessionFactory
    publisher: RecordingPublisher
    policy: DeadlinePolicy
    seen: WorkflowsSeen = field(default_factory=WorkflowsSeen)

    async def end_workflows(self) -> None:
        """Terminate what the last test left running (its assertions are done)."""
        for workflow_id in self.seen.take():
            try:
                await self.client.get_workflow_handle(workflow_id).terminate("test over")
            except RPCError:
                pass  # completed, or continued and closed already

    @property
    def client(self) -> Client:
        return self.env.client

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def open(self, **overrides: Any) -> tuple[ComplaintReceived, WorkflowHandle[Any, Any]]:
        """Submit a complaint, dated by the test server's clock; wait until it is dispatched."""
        overrides.setdefault("occurred_at", (await self.now()).isoformat())
        received = complaint(**overrides)
        case_id = await submit_complaint(self.client, received, TASK_QUEUE)
        handle = self.client.get_workflow_handle(workflow_id_for(case_id), result_type=CaseState)
        await self.until(handle, lambda s: s.status is not None and s.step >= 1)
        return received, handle

    async def start(self, received: ComplaintReceived, **params: Any) -> WorkflowHandle[Any, Any]:
        case_id = case_id_for(received.event_id, received.occurred_at)
        return await self.client.start_workflow(
            CaseWorkflow.run,
            CaseWorkflowInput(case_id=case_id, **params),
            id=workflow_id_for(case_id),
            task_queue=TASK_QUEUE,
            start_signal="complaint",
            start_signal_args=[received],
        )

    async def state(self, handle: WorkflowHandle[Any, Any]) -> CaseState:
        return await handle.query(CaseWorkflow.state)

    async def until(
        self,
        handle: WorkflowHandle[Any, Any],
        check: Callable[[CaseState], bool],
        within: float = 30,
    ) -> CaseState:
        """The state once `check` holds. Timers fire on the virtual clock, but the steps they
        start run in real time: poll until they are done."""
        deadline = time.monotonic() + within
        while True:
            state = await self.state(handle)
            if check(state):
                return state
            assert time.monotonic() < deadline, f"state never matched: {state}"
            await asyncio.sleep(0.05)

    def holding_the_clock(self) -> AbstractContextManager[None]:
        """Awaiting a workflow's result unlocks time skipping until the result is in; with
        other workflows' timers pending, the clock then ran off by years between tests.
        Results are awaited inside this; the clock moves only by `pass_time_until`."""
        return self.env.auto_time_skipping_disabled()

    async def pass_time_until(self, moment: datetime | None) -> None:
        """Move the virtual clock a little past `moment`."""
        assert moment is not None
        gap = moment - await self.now() + timedelta(seconds=1)
        if gap > timedelta(0):
            await self.env.sleep(gap)
