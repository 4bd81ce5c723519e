"""A mixed load with bad events interleaved, SIGKILLs of the stack's processes, and the
accounting afterwards: shared by tests/test_fault_matrix.py and bench/chaos.py.

Acknowledged means: HTTP 202 (complaints), SIP 200 OK (alarms from registered devices over
UDP), a produce the broker acknowledged (inspections, registry events, bad events). Each
must end as exactly one case, finding or dead letter; every dispatch recorded once and on
`tuoyu.notifications` at least once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import col, func, select

from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.settings import Settings
from infra.users import add_user
from models import topics
from models.actors import Role
from models.camera import Device
from models.cases import Case
from models.inspections import InspectionFinding
from models.institutions import Institution
from models.notifications import NotificationRecord
from tests.factories import alarm_xml, complaint_payload, device_id, registry_event, sip_message
from tests.kafka_reader import TopicReader
from tests.sip_client import register, secrets_of
from workers.stack import Stack

BEIJING = ZoneInfo("Asia/Shanghai")
TOWNS = ["town-longchang", "town-wanshui", "town-dafengdong", "street-baiwu"]
VICTIMS = ["kafka", "temporal", "temporal-worker", "stream-worker", "api", "sip-gateway"]


@dataclass
class Acked:
    complaints: list[str] = field(default_factory=list)  # case ids answered with 202
    alarms: list[str] = field(default_factory=list)  # institutions whose device got 200 OK
    inspections: list[str] = field(default_factory=list)  # event ids
    registry: list[str] = field(default_factory=list)  # institution ids
    bad: list[str] = field(default_factory=list)  # markers inside the bad events
    refused: Counter[str] = field(default_factory=Counter)  # not acknowledged, by kind


class Supervised:
    """A Stack with its supervisor running in a thread, as `tuoyu up` runs it."""

    def __init__(self, settings: Settings) -> None:
        self.stack = Stack(settings, temporal_ui=False).start()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        self.thread.start()

    def _supervise(self) -> None:
        try:
            self.stack.supervise(self.stop)
        except BaseException as exc:  # a crash loop: the test reports it
            self.failure = exc

    def close(self, crash: bool = False) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        if crash:  # everything SIGKILLed at once, as a power cut would
            for proc in self.stack.children().values():
                proc.kill()
        self.stack.stop()


class Mix:
    def __init__(self, stack: Stack, run: str | None = None) -> None:
        self.stack = stack
        self.settings = stack.settings
        self.run = run or uuid.uuid4().hex[:8]
        self.engine = make_engine(self.settings.resolved_database_url)
        self.sessions = session_factory(self.engine)
        with self.sessions() as session:
            _, token = add_user(session, f"faults-{uuid.uuid4().hex[:12]}", Role.OPERATOR, None)
            session.commit()
        base = f"http://{self.settings.http_host}:{self.settings.http_port}"
        self.http = httpx.AsyncClient(
            base_url=base, timeout=10, headers={"authorization": f"Bearer {token}"}
        )
        self.producer = KafkaPublisher(self.settings.kafka_bootstrap, timeout=10)
        self.acked = Acked()
        self.devices: list[tuple[str, str]] = []  # (institution, device) registered, unused
        self.seq = 0

    async def close(self) -> None:
        await self.http.aclose()
        self.producer.close()
        self.engine.dispose()

    # ------------------------------------------------------------ sending

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    async def produce(self, topic: str, key: str, value: bytes) -> bool:
        try:
            await asyncio.to_thread(self.producer.publish, topic, key, value)
            return True
        except Exception:  # not acknowledged (broker down): owes nothing
            return False

    async def register_devices(self, count: int) -> None:
        """Institutions with one camera each, registered before their alarms are sent."""
        wanted: list[tuple[str, str]] = []
        for _ in range(count):
            institution = f"FM-{self.run}-{self._next()}"
            device = device_id()
            for event in (
                registry_event(
                    "institution-registered",
                    institution_id=institution,
                    name=f"故障测试托育园{institution}",
                    town=TOWNS[self.seq % len(TOWNS)],
                    registrar="samr",
                ),
                registry_event(
                    "device-registered",
                    device_id=device,
                    institution_id=institution,
                    name="门厅",
                    keepalive_interval=3600,
                    **secrets_of(device),
                ),
            ):
                for _ in range(30):
                    if await self.produce(topics.REGISTRY, institution, event):
                        break
            wanted.append((institution, device))

        def registered() -> bool:
            with self.sessions() as session:
                ids = [d for _, d in wanted]
                found = session.exec(
                    select(func.count()).select_from(Device).where(col(Device.id).in_(ids))
                ).one()
                return found == len(ids)

        deadline = time.monotonic() + 180
        while not await asyncio.to_thread(registered):
            assert time.monotonic() < deadline, "devices not registered"
            await asyncio.sleep(0.5)
        # Each camera registers with the SIP gateway (digest), as it must before an alarm.
        target = (self.settings.sip_host, self.settings.sip_port)
        for _, device in wanted:
            while True:
                try:
                    _, reply = await asyncio.to_thread(register, target, device)
                except (OSError, AssertionError):
                    reply = b""
                if reply.startswith(b"SIP/2.0 200"):
                    break
                assert time.monotonic() < deadline, f"{device} cannot register"
                await asyncio.sleep(0.5)
        self.devices.extend(wanted)

    async def complaint(self) -> None:
        n = self._next()
        body = complaint_payload(town=TOWNS[n % len(TOWNS)])
        body.pop("event_id"), body.pop("occurred_at"), body.pop("channel")
        try:
            response = await self.http.post("/api/v1/complaints", json=body)
        except httpx.HTTPError:
            self.acked.refused["complaint"] += 1
            return
        if response.status_code == 202:
            self.acked.complaints.append(response.json()["case_id"])
        else:
            self.acked.refused["complaint"] += 1

    async def alarm(self) -> None:
        if not self.devices:
            return
        institution, device = self.devices.pop()
        now = datetime.now(BEIJING).strftime("%Y-%m-%dT%H:%M:%S")
        body = alarm_xml(device, sn=self._next(), priority=2, when=now)
        target = (self.settings.sip_host, self.settings.sip_port)
        try:
            reply = await asyncio.to_thread(udp_exchange, target, sip_message(body, device))
        except OSError:
            reply = b""
        if reply.startswith(b"SIP/2.0 200"):
            self.acked.alarms.append(institution)
        else:
            self.acked.refused["alarm"] += 1
            self.devices.insert(0, (institution, device))  # a device sends it again later

    async def inspection(self) -> None:
        if not self.acked.registry:
            return
        institution = self.acked.registry[-1]
        event_id = f"fm-insp-{self.run}-{self._next()}"
        report = {
            "event_id": event_id,
            "occurred_at": datetime.now(UTC).isoformat(),
            "kind": "spot-check",
            "institution_id": institution,
            "town": TOWNS[0],
            "inspector_unit": "health",
            "findings": [{"code": "disinfection", "note": "消毒记录缺失"}],
        }
        value = json.dumps(report, ensure_ascii=False).encode()
        if await self.produce(topics.INSPECTIONS, institution, value):
            self.acked.inspections.append(event_id)

    async def registration(self) -> None:
        institution = f"FM-{self.run}-{self._next()}"
        event = registry_event(
            "institution-registered",
            institution_id=institution,
            name=f"故障测试托育园{institution}",
            town=TOWNS[self.seq % len(TOWNS)],
            registrar="samr",
        )
        if await self.produce(topics.REGISTRY, institution, event):
            self.acked.registry.append(institution)

    async def bad(self) -> None:
        """Inputs today's parsers refuse: malformed JSON, a missing field, a wrong type."""
        marker = f"fm-bad-{self.run}-{self._next():06d}"  # fixed width: none is a prefix
        kind = self.seq % 3
        if kind == 0:
            topic, value = topics.COMPLAINTS, f'{{"event_id": "{marker}", "description": '.encode()
        elif kind == 1:
            payload = complaint_payload(event_id=marker)
            del payload["category"]
            topic, value = topics.COMPLAINTS, json.dumps(payload, ensure_ascii=False).encode()
        else:
            event = json.loads(registry_event("institution-registered", institution_id=marker))
            event.update(event_id=marker, name=["不是", "字符串"], town=42, registrar="samr")
            topic, value = topics.REGISTRY, json.dumps(event, ensure_ascii=False).encode()
        if await self.produce(topic, marker, value):
            self.acked.bad.append(marker)

    async def burst(self, complaints: int = 4) -> None:
        """One round of the mix: complaints, an alarm, a registration, an inspection, and a
        bad event between them."""
        for _ in range(complaints // 2):
            await self.complaint()
        await self.bad()
        await self.alarm()
        await self.registration()
        await self.inspection()
        for _ in range(complaints - complaints // 2):
            await self.complaint()

    async def load(self, seconds: float, complaints: int = 4) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.burst(complaints)
            await asyncio.sleep(0.2)

    # ------------------------------------------------------------ faults

    async def kill(self, name: str, within: float = 180) -> float:
        """SIGKILL one child; returns the seconds until the supervisor had it back."""
        before = self.stack.children()[name]
        began = time.monotonic()
        await asyncio.to_thread(before.kill)
        while True:
            current = self.stack.children().get(name)
            if current is not None and current is not before and current.alive():
                return time.monotonic() - began
            assert time.monotonic() - began < within, f"{name} was not restarted"
            await asyncio.sleep(0.2)

    # ------------------------------------------------------------ accounting

    def counts(self) -> dict[str, Any]:
        """What became of everything acknowledged: lost, duplicated, accounted for."""
        a = self.acked
        with self.sessions() as s:
            cases = Counter(
                s.exec(select(Case.id).where(col(Case.id).in_(a.complaints or ["-"]))).all()
            )
            # A device whose 200 OK came too late sends its alarm again (a new alarm time):
            # the second becomes a case merged into the first, not a second open case.
            alarm_cases = Counter(
                str(i)
                for i in s.exec(
                    select(Case.institution_id).where(
                        col(Case.institution_id).in_(a.alarms or ["-"]),
                        col(Case.merged_into).is_(None),
                    )
                ).all()
            )
            findings = Counter(
                s.exec(
                    select(InspectionFinding.event_id).where(
                        col(InspectionFinding.event_id).in_(a.inspections or ["-"])
                    )
                ).all()
            )
            registered = Counter(
                s.exec(
                    select(Institution.id).where(col(Institution.id).in_(a.registry or ["-"]))
                ).all()
            )
            dispatches = s.exec(
                select(NotificationRecord.case_id, NotificationRecord.recipient).where(
                    col(NotificationRecord.case_id).in_(a.complaints or ["-"]),
                    NotificationRecord.kind == "dispatch",
                )
            ).all()
        dead = self.dead_letters()
        # A produce the broker acknowledged once can still land twice when the broker is
        # killed mid-retry; each record is an input of its own and owes its own dead letter.
        copies = self.copies_on_topics()
        dead_per_input = Counter({m: n - (copies.get(m, 1) - 1) for m, n in dead.items()})
        recorded = Counter(c for c, _ in dispatches if c is not None)
        sent = self.dispatches_sent(set(recorded))
        rows = {
            "complaints (HTTP 202) -> case": _row(a.complaints, cases),
            "alarms (SIP 200 OK) -> case": _row(a.alarms, alarm_cases),
            "inspections (acked) -> finding": _row(a.inspections, findings),
            "registry (acked) -> institution": _row(a.registry, registered),
            "bad events (acked) -> dead letter": _row(a.bad, dead_per_input),
        }
        return {
            "rows": rows,
            "dispatch": {
                "cases": len(a.complaints),
                "with a dispatch recorded": len(recorded),
                "recorded twice (case, unit)": len(dispatches) - len(set(dispatches)),
                "sent at least once": len(sent),
            },
            "refused (not acknowledged)": dict(a.refused),
            "bad events on their topic twice (producer retries)": sum(
                1 for m in a.bad if copies.get(m, 0) > 1
            ),
        }

    def complete(self, counts: dict[str, Any]) -> bool:
        rows = counts["rows"].values()
        d = counts["dispatch"]
        return (
            all(r["missing"] == 0 and r["duplicated"] == 0 for r in rows)
            and d["with a dispatch recorded"] == d["cases"]
            and d["sent at least once"] == d["cases"]
            and d["recorded twice (case, unit)"] == 0
        )

    async def settle(self, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            counts = await asyncio.to_thread(self.counts)
            if self.complete(counts) or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(2)

    def dead_letters(self) -> Counter[str]:
        """Distinct dead letters (by their own event id: source topic, partition, offset) per
        bad event's marker."""
        markers = set(self.acked.bad)
        seen: dict[str, set[str]] = {}
        for record in self._read(topics.DEAD_LETTER):
            letter = json.loads(record.value)
            original = base64.b64decode(letter.get("original_base64", ""))
            for marker in markers:
                if marker.encode() in original:
                    seen.setdefault(marker, set()).add(letter["event_id"])
        return Counter({m: len(ids) for m, ids in seen.items()})

    def copies_on_topics(self) -> Counter[str]:
        """How many records carry each bad event's marker on its inbound topic."""
        markers = set(self.acked.bad)
        found: Counter[str] = Counter()
        for topic in (topics.COMPLAINTS, topics.REGISTRY):
            for record in self._read(topic):
                if record.key is not None and record.key.decode(errors="replace") in markers:
                    found[record.key.decode()] += 1
        return found

    def dispatches_sent(self, cases: set[str]) -> set[str]:
        found: set[str] = set()
        for record in self._read(topics.NOTIFICATIONS):
            n = json.loads(record.value)
            if n.get("kind") == "dispatch" and n.get("case_id") in cases:
                found.add(n["case_id"])
        return found

    def _read(self, topic: str) -> list[Any]:
        reader = TopicReader(self.settings.kafka_bootstrap, topic)
        try:
            quiet = 0
            while quiet < 3:
                before = len(reader.records)
                reader.poll()
                quiet = quiet + 1 if len(reader.records) == before else 0
            return reader.records
        finally:
            reader.close()


def _row(acked: list[str], outcome: Counter[str]) -> dict[str, Any]:
    missing = [k for k in acked if outcome.get(k, 0) == 0]
    return {
        "acknowledged": len(acked),
        "accounted": sum(1 for k in acked if outcome.get(k, 0) >= 1),
        "missing": len(missing),
        "duplicated": sum(1 for k in acked if outcome.get(k, 0) > 1),
        "missing_examples": missing[:5],
    }


def udp_exchange(target: tuple[str, int], datagram: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(datagram, target)
        return sock.recv(65536)


def render(counts: dict[str, Any]) -> str:
    lines = []
    for name, row in counts["rows"].items():
        lines.append(
            f"{name:38} acked {row['acknowledged']:5}  accounted {row['accounted']:5}  "
            f"missing {row['missing']:3}  duplicated {row['duplicated']:3}"
        )
    for name, row in counts["rows"].items():
        if row["missing_examples"]:
            lines.append(f"  missing {name}: {', '.join(row['missing_examples'])}")
    lines.append("dispatch: " + ", ".join(f"{k} {v}" for k, v in counts["dispatch"].items()))
    lines.append("refused (not acknowledged): " + json.dumps(counts["refused (not acknowledged)"]))
    twice = counts["bad events on their topic twice (producer retries)"]
    lines.append(f"bad events on their topic twice (producer retries): {twice}")
    return "\n".join(lines)
