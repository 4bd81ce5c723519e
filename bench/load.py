"""The harness's load: the inbound events of the mix, and the probe that counts what the stack
made of them (bench/harness.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import func, select

from infra.db import SessionFactory
from infra.kafka import KafkaPublisher
from models import topics
from models.camera import Device
from models.cases import Case
from models.outbox import OutboxMessage
from models.staff import Employment
from workers.stack import Stack

TOWNS = ["town-lushan", "town-wanchao", "street-ximen", "street-dashizi", "zone-lubi"]


def now() -> str:
    return datetime.now(UTC).isoformat()


def identity_number(seed: int) -> str:
    weights, check = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], "10X98765432"
    body = f"5226011990{seed % 10**7:07d}"
    return body + check[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


class Probe:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def cases(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Case)).one()

    def devices(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Device)).one()

    def outbox_written(self, cases: set[str]) -> dict[str, float]:
        """When each case's first dispatch was written to the outbox (epoch seconds)."""
        found: dict[str, float] = {}
        with self.sessions() as session:
            rows = session.exec(
                select(OutboxMessage).where(OutboxMessage.topic == topics.NOTIFICATIONS)
            ).all()
        for row in rows:
            note = json.loads(row.value)
            if note.get("kind") == "dispatch" and note.get("case_id") in cases:
                at = row.created_at
                at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite keeps no offset
                found.setdefault(note["case_id"], at.timestamp())
        return found

    def employments(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(Employment)).one()


async def wait(check: Callable[[], bool], limit: float = 3600) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the stack did not finish in time")
        await asyncio.sleep(0.1)


def complaint(i: int, run: str) -> bytes:
    return json.dumps(
        {
            "event_id": f"{run}-c{i}",
            "occurred_at": now(),
            "channel": "hotline",
            "category": "health-management",
            "town": TOWNS[i % len(TOWNS)],
            "institution_name": f"基准托育机构{run}-{i}",  # distinct: duplicates would merge
            "description": "基准测试投诉",
        },
        ensure_ascii=False,
    ).encode()


async def registry_setup(
    publisher: KafkaPublisher, probe: Probe, run: str, institutions: int, devices: int
) -> tuple[list[str], list[str]]:
    """Institutions, and one camera per alarm to send (so that each alarm is a case)."""
    ids = [f"{run}-inst{i}" for i in range(institutions)]
    events = [
        (
            inst,
            json.dumps(
                {
                    "type": "institution-registered",
                    "event_id": f"{run}-reg-{inst}",
                    "occurred_at": now(),
                    "institution_id": inst,
                    "name": f"基准机构{inst}",
                    "town": TOWNS[i % len(TOWNS)],
                    "registrar": "samr",
                },
                ensure_ascii=False,
            ).encode(),
        )
        for i, inst in enumerate(ids)
    ]
    cameras = [f"5226010000132{run[-4:]}{i:03d}" for i in range(devices)]
    events += [
        (
            ids[i % len(ids)],
            json.dumps(
                {
                    "type": "device-registered",
                    "event_id": f"{run}-dev-{cam}",
                    "occurred_at": now(),
                    "device_id": cam,
                    "institution_id": ids[i % len(ids)],
                }
            ).encode(),
        )
        for i, cam in enumerate(cameras)
    ]
    before = probe.devices()
    publisher.publish_all(topics.REGISTRY, events)

    def registered() -> bool:
        return probe.devices() - before >= devices

    await wait(registered)
    return ids, cameras


async def mix(stack: Stack, probe: Probe, n: int) -> dict[str, Any]:
    publisher = KafkaPublisher(stack.settings.kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    kinds = [i % 10 for i in range(n)]
    alarms, inspections = kinds.count(8), kinds.count(7)
    registry, complaints = kinds.count(9), n - kinds.count(7) - kinds.count(8) - kinds.count(9)
    institutions, cameras = await registry_setup(publisher, probe, run, 50, alarms)
    batches: dict[str, list[tuple[str, bytes]]] = {t: [] for t in topics.INBOUND}
    camera = iter(cameras)
    for i, kind in enumerate(kinds):
        inst = institutions[i % len(institutions)]
        if kind == 7:
            batches[topics.INSPECTIONS].append(
                (
                    inst,
                    json.dumps(
                        {
                            "event_id": f"{run}-i{i}",
                            "occurred_at": now(),
                            "kind": "spot-check",
                            "institution_id": f"{inst}-x{i}",  # one case per report
                            "town": TOWNS[i % len(TOWNS)],
                            "inspector_unit": "health",
                            "findings": [{"code": "fire-safety"}, {"code": "disinfection"}],
                        }
                    ).encode(),
                )
            )
        elif kind == 8:
            device = next(camera)
            batches[topics.CAMERA_ALARMS].append(
                (
                    device,
                    json.dumps(
                        {
                            "event_id": f"{run}-a{i}",
                            "occurred_at": now(),
                            "kind": "intrusion",
                            "device_id": device,
                            "alarm_priority": 3,
                        }
                    ).encode(),
                )
            )
        elif kind == 9:
            batches[topics.REGISTRY].append(
                (
                    inst,
                    json.dumps(
                        {
                            "type": "staff-hired",
                            "event_id": f"{run}-s{i}",
                            "occurred_at": now(),
                            "institution_id": inst,
                            "person": {"id_number": identity_number(i), "name": f"员工{i}"},
                            "role": "caregiver",
                        },
                        ensure_ascii=False,
                    ).encode(),
                )
            )
        else:
            batches[topics.COMPLAINTS].append((f"{run}-c{i}", complaint(i, run)))
    cases_before, staff_before = probe.cases(), probe.employments()
    expected_cases = complaints + inspections + alarms
    begin = time.perf_counter()
    for topic, messages in batches.items():
        publisher.publish_all(topic, messages)
    await wait(
        lambda: (
            probe.cases() - cases_before >= expected_cases
            and probe.employments() - staff_before >= registry
        )
    )
    elapsed = time.perf_counter() - begin
    publisher.close()
    return {
        "events": n,
        "complaints": complaints,
        "inspections": inspections,
        "alarms": alarms,
        "registry": registry,
        "seconds": round(elapsed, 2),
        "events_per_s": round(n / elapsed, 1),
    }
