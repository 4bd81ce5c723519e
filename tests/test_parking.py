"""Deterministic failures inside Temporal end in a recorded, visible failure (issue 13,
findings 1 and 4): the event is parked and dead-lettered with its reason, a case is flagged
to the leading group office, and the workflow goes on. On the time-skipping server with the
session's database; inputs pass every (bounded) model, or are built with `model_construct`
as the edge would refuse them, and fail in the activity: on a constraint of the database
where one refuses them on SQLite and PostgreSQL alike, else by a marked input that the
test-only activities (tests/case_env.py) refuse as the database would."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from infra.servers import venv_binary
from models.audit import AuditRecord
from models.camera import CameraAlarmKind, DeviceAlarm
from models.case_actions import AcceptCase, AddNote
from models.cases import case_id_for, workflow_id_for
from models.complaints import ComplaintReceived
from models.institutions import Institution
from models.notifications import NotificationKind
from models.parking import ParkedEvent
from models.registry import InstitutionRegistered, RegistryCommand
from models.workflow_io import CaseState
from tests.case_env import TASK_QUEUE, CaseEnv, town
from tests.polling import eventually
from tests.refusing import REFUSED_BY_DATABASE
from workflows.alarms.starter import submit_alarm
from workflows.alarms.workflows import AlarmWorkflow
from workflows.cases.workflows import CaseWorkflow
from workflows.inspections.starter import submit_inspection
from workflows.registry.starter import submit_registry_event

# Valid for pydantic; moved to UTC it is in year 10000: OverflowError in the activity. Device
# alarms take it; the other events' models refuse it (models/bounds.py).
FAR = datetime.fromisoformat("9999-12-31T23:59:59-12:00")
NO_SUCH_TOWN = "town-nowhere"  # a valid code by the model, but no unit: the foreign key refuses it


def parked(case_env: CaseEnv, **where: str) -> list[ParkedEvent]:
    with case_env.sessions() as session:
        query = select(ParkedEvent)
        for column, value in where.items():
            query = query.where(getattr(ParkedEvent, column) == value)
        return list(session.exec(query).all())


def institution(
    event_id: str, institution_id: str, when: datetime, town: str = "town-lushan"
) -> RegistryCommand:
    return RegistryCommand(
        institution=InstitutionRegistered(
            type="institution-registered",
            event_id=event_id,
            occurred_at=when,
            institution_id=institution_id,
            name=f"炉山镇测试托育{uuid.uuid4().hex[:6]}",
            town=town,
            registrar="civil",
        )
    )


async def refused_case(
    case_env: CaseEnv,
) -> tuple[ComplaintReceived, str, WorkflowHandle[Any, Any]]:
    """A complaint valid by every model whose `open_case` fails for good: the event id of a
    case already open, dated a day later, so its case id differs and the cases' unique event
    id refuses it (IntegrityError, given up on the third attempt)."""
    first, _ = await case_env.open(town="town-lushan")
    received = first.model_copy(update={"occurred_at": first.occurred_at + timedelta(days=1)})
    handle = await case_env.start(received)
    return received, case_id_for(received.event_id, received.occurred_at), handle


async def test_a_complaint_that_cannot_be_opened_is_parked_flagged_and_dead_lettered(
    case_env: CaseEnv,
) -> None:
    received, case_id, handle = await refused_case(case_env)
    with case_env.holding_the_clock():
        state: CaseState = await handle.result()  # ends, instead of retrying for ever
    assert state.parked == ["open"] and state.case_id == case_id
    [row] = parked(case_env, case_id=case_id)
    assert row.kind == "complaint" and row.event_id == received.event_id
    assert row.error_type.startswith("IntegrityError")
    assert "王女士" not in row.payload  # contact details stay out of the dead letter
    letters = [(k, d) for k, d in case_env.publisher.dead if d.event_id == row.dead_letter_id]
    assert len(letters) == 1 and letters[0][0] == received.event_id
    assert "processing failed" in letters[0][1].reason
    flags = case_env.publisher.to(case_id, NotificationKind.PROCESSING_FAILED)
    assert [f.recipient for f in flags] == ["leading-office"]


async def test_a_complaint_the_database_refuses_for_good_is_parked(case_env: CaseEnv) -> None:
    """Valid by every model, refused by the cases' unique event id on SQLite and PostgreSQL
    alike (see `refused_case`)."""
    received, case_id, handle = await refused_case(case_env)
    with case_env.holding_the_clock():
        state: CaseState = await handle.result()
    assert state.parked == ["open"]
    [row] = parked(case_env, case_id=case_id)
    assert row.error_type.startswith("IntegrityError") and row.event_id == received.event_id


async def test_a_note_the_database_refuses_is_parked_and_the_case_goes_on(
    case_env: CaseEnv,
) -> None:
    """A NUL in a note is refused by the model now; a marked note is refused as PostgreSQL
    refused the NUL (tests/refusing.py)."""
    _, handle = await case_env.open(town="town-lushan")
    case_id = (await case_env.state(handle)).case_id
    bad = AddNote(actor=town(), text=f"现场核实{REFUSED_BY_DATABASE}")
    await handle.execute_update(CaseWorkflow.note, bad)
    state = await handle.execute_update(CaseWorkflow.accept, AcceptCase(actor=town()))
    assert state.status == "accepted"  # later actions on the case still work
    assert len(state.parked) == 1
    [row] = parked(case_env, case_id=case_id)
    assert row.kind == "case-step" and row.error_type.startswith("DataError")
    assert case_env.publisher.to(case_id, NotificationKind.PROCESSING_FAILED)


async def test_a_registry_event_that_fails_does_not_stop_the_next_of_its_institution(
    case_env: CaseEnv,
) -> None:
    key = f"INST-{uuid.uuid4().hex[:8]}"
    bad, good = f"reg-{uuid.uuid4()}", f"reg-{uuid.uuid4()}"
    now = await case_env.now()
    await submit_registry_event(
        case_env.client, institution(bad, key, now, town=NO_SUCH_TOWN), TASK_QUEUE
    )
    await submit_registry_event(case_env.client, institution(good, key, now), TASK_QUEUE)

    def applied() -> bool:
        with case_env.sessions() as session:
            return session.get(Institution, key) is not None

    assert await eventually(applied, 60)
    [row] = parked(case_env, event_id=bad)
    assert row.kind == "registry" and row.key == key
    assert row.error_type.startswith("IntegrityError")
    assert [k for k, d in case_env.publisher.dead if d.event_id == row.dead_letter_id] == [key]


async def test_an_alarm_that_fails_is_parked_and_an_unregistered_device_dead_lettered_once(
    case_env: CaseEnv,
) -> None:
    device = f"52260100001320{uuid.uuid4().int % 10**6:06d}"
    failing = DeviceAlarm(
        event_id=f"alarm-{uuid.uuid4()}",
        occurred_at=FAR,
        kind=CameraAlarmKind.INTRUSION,
        device_id=device,
    )
    unknown = DeviceAlarm(
        event_id=f"alarm-{uuid.uuid4()}",
        occurred_at=await case_env.now(),
        kind=CameraAlarmKind.INTRUSION,
        device_id=device,
    )
    with case_env.holding_the_clock():
        for alarm in (failing, unknown):
            await submit_alarm(case_env.client, alarm, TASK_QUEUE)
            assert (
                await case_env.client.get_workflow_handle(f"alarm-{alarm.event_id}").result()
                is None
            )
        # The same alarm again, by another workflow: the trail says it was done.
        await case_env.client.execute_workflow(
            AlarmWorkflow.run, unknown, id=f"again-{unknown.event_id}", task_queue=TASK_QUEUE
        )
    assert [p.kind for p in parked(case_env, event_id=failing.event_id)] == ["alarm"]
    letters = [
        (k, d)
        for k, d in case_env.publisher.dead
        if d.reason.startswith("unregistered device") and unknown.event_id.encode() in d.original
    ]
    assert len(letters) == 1 and letters[0][0] == device
    with case_env.sessions() as session:
        audited = session.exec(
            select(AuditRecord).where(
                AuditRecord.idempotency_key == f"alarm:{unknown.event_id}:unknown-device"
            )
        ).all()
    assert len(audited) == 1 and audited[0].details["dead_letter"] == letters[0][1].event_id


async def test_an_inspection_that_fails_is_parked_and_the_next_opens_its_case(
    case_env: CaseEnv,
) -> None:
    from models.inspections import InspectionReport

    key = f"INST-{uuid.uuid4().hex[:8]}"
    await submit_registry_event(
        case_env.client, institution(f"reg-{uuid.uuid4()}", key, await case_env.now()), TASK_QUEUE
    )

    def report(note: str) -> InspectionReport:
        return InspectionReport.model_validate(
            {
                "event_id": f"insp-{uuid.uuid4()}",
                "occurred_at": now.isoformat(),
                "kind": "spot-check",
                "institution_id": key,
                "town": "town-lushan",
                "inspector_unit": "health",
                "findings": [{"code": "fire-safety", "note": note}],
            }
        )

    now = await case_env.now()
    bad, good = report(f"疏散通道堆放杂物{REFUSED_BY_DATABASE}"), report("疏散通道堆放杂物")
    with case_env.holding_the_clock():
        for r in (bad, good):
            await submit_inspection(case_env.client, r, TASK_QUEUE)
        await case_env.client.get_workflow_handle(f"inspection-{bad.event_id}").result()
        result = await case_env.client.get_workflow_handle(f"inspection-{good.event_id}").result()
    [row] = parked(case_env, event_id=bad.event_id)
    assert row.kind == "inspection" and row.error_type.startswith("DataError")
    assert [k for k, d in case_env.publisher.dead if d.event_id == row.dead_letter_id] == [key]
    [opened] = result["complaints"] if isinstance(result, dict) else result.complaints
    opened_id = (
        case_id_for(opened["event_id"], datetime.fromisoformat(opened["occurred_at"]))
        if isinstance(opened, dict)
        else case_id_for(opened.event_id, opened.occurred_at)
    )
    handle = case_env.client.get_workflow_handle(workflow_id_for(opened_id))
    state = await case_env.until(handle, lambda s: s.step >= 1)
    assert state.status == "dispatched"


async def test_an_operator_lists_and_resolves_parked_events(
    case_env: CaseEnv, case_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from infra.settings import get_settings
    from workers.cli import app

    _, case_id, handle = await refused_case(case_env)
    with case_env.holding_the_clock():
        await handle.result()
    monkeypatch.setenv("TUOYU_DATABASE_URL", case_database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(app, ["parked", "list", "--limit", "500"], env={"COLUMNS": "400"})
        assert listed.exit_code == 0 and case_id in listed.output
        [row] = parked(case_env, case_id=case_id)
        done = runner.invoke(
            app, ["parked", "resolve", row.id, "--by", "值班员", "--note", "已核实"]
        )
        assert done.exit_code == 0, done.output
        assert parked(case_env, case_id=case_id)[0].resolved_by == "值班员"
    finally:
        get_settings.cache_clear()


async def test_a_staff_check_waits_a_bounded_time() -> None:
    """Over HTTP a staff check waits for its answer, but never for ever (503 in the API).

    On a time-skipping server of its own: the check's workflow task waits on a queue no worker
    polls, and a server holding such a task no longer skips time for the other tests."""
    from models.people import PersonRef
    from models.registry import StaffCommand
    from workflows.registry.starter import StaffCheckUnavailable, check_staff

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        command = RegistryCommand(
            staff=StaffCommand(
                type="check",
                event_id=f"api-{uuid.uuid4()}",
                occurred_at=await env.get_current_time(),
                person=PersonRef(id_hash="1" * 64, id_masked="522601********0011", name="李四"),
            )
        )
        with env.auto_time_skipping_disabled(), pytest.raises(StaffCheckUnavailable):
            await check_staff(env.client, command, "no-worker-here", wait_seconds=0.5)
    finally:
        await env.shutdown()


async def test_an_institutions_events_apply_in_order_across_continue_as_new(
    case_env: CaseEnv,
) -> None:
    """The per-institution workflow keeps the topic's order and drops repeats, also when it
    continues as new (here after every 2 events)."""
    from models.camera import Device
    from models.registry import DeviceRegistered, RegistryStream
    from workflows.registry.starter import registry_workflow_id
    from workflows.registry.workflows import InstitutionRegistryWorkflow

    key = f"INST-{uuid.uuid4().hex[:8]}"
    now = await case_env.now()
    first = institution(f"reg-{uuid.uuid4()}", key, now)
    devices = [f"52260100001320{uuid.uuid4().int % 10**6:06d}" for _ in range(4)]
    commands = [first, first] + [
        RegistryCommand(
            device=DeviceRegistered(
                type="device-registered", event_id=f"reg-{uuid.uuid4()}", occurred_at=now,
                device_id=d, institution_id=key,
            )
        )
        for d in devices
    ]  # fmt: skip
    handle = await case_env.client.start_workflow(
        InstitutionRegistryWorkflow.run,
        RegistryStream(key=key, events_per_run=2),
        id=registry_workflow_id(key),
        task_queue=TASK_QUEUE,
        start_signal="event",
        start_signal_args=[commands[0]],
    )
    for command in commands[1:]:
        await handle.signal(InstitutionRegistryWorkflow.event, command)

    def all_applied() -> bool:
        with case_env.sessions() as session:
            return all(session.get(Device, d) is not None for d in devices)

    assert await eventually(all_applied, 60)
    described = await case_env.client.get_workflow_handle(registry_workflow_id(key)).describe()
    assert described.run_id != handle.first_execution_run_id  # it continued as new
    with case_env.sessions() as session:
        registered = session.exec(
            select(AuditRecord).where(AuditRecord.idempotency_key == first.event_id)
        ).all()
        order = session.exec(
            select(AuditRecord.idempotency_key)
            .where(col(AuditRecord.idempotency_key).in_([c.event_id for c in commands]))
            .order_by(col(AuditRecord.seq))
        ).all()
    assert len(registered) == 1
    assert list(order) == [c.event_id for c in commands[1:]]  # the topic's order, once each
