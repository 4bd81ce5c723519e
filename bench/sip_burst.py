"""A burst of camera alarms over SIP UDP: every alarm the gateway answered 200 must be on
`tuoyu.camera-alarms` and reach its case.

    python -m bench.sip_burst --alarms 2000 --seconds 2      # its own stack
    python -m bench.harness --parts burst                    # as a part of the harness

N devices are registered in the registry (with the SIP password's HA1; 10 to an institution,
`--per-institution`) and REGISTER with digest authentication, as GB/T 28181 devices do; then
each sends one alarm MESSAGE, all of them spread evenly over the given seconds, from one UDP
socket. Like a device, the sender
retransmits a MESSAGE that got no final answer (RFC 3261 timer E: 0.5 s doubling up to 4 s,
for 32 s at most) and answers the platform's own requests 200. One alarm per device: each
alarm is the first of its storm window, so each opens a case (or joins one of the
institution's open cases) and "reached its case" is its case row (`source_event_id` is the
window's event id, `alarm:<device>:<window>`).

Prints the counts (sent, answered 200, answered otherwise, unanswered, on the topic, in a
case), the send rate achieved, the last 200 OK's delay after the last send, and the drain time
(last 200 OK -> the last alarm in its case) against the alarm cases' own rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from sqlmodel import col, select

from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from models import topics
from models.camera import Device
from models.cases import Case
from models.timeutil import SHANGHAI
from tests.factories import alarm_xml, sip_message
from tests.polling import eventually
from tests.sip_client import register, secrets_of
from workers.stack import Stack

T1, T2, TIMER_F = 0.5, 4.0, 32.0  # RFC 3261 17.1.2.2, seconds
NOT_ALARMS = {"keepalive", "registered", "unregistered"}


def registry_events(run: str, devices: list[str], per_institution: int) -> list[tuple[str, bytes]]:
    events: list[tuple[str, bytes]] = []
    for start in range(0, len(devices), per_institution):
        institution = f"{run}-burst-inst{start // per_institution}"
        events.append(
            (
                institution,
                json.dumps(
                    {
                        "type": "institution-registered",
                        "event_id": f"{run}-reg-{institution}",
                        "occurred_at": datetime.now(UTC).isoformat(),
                        "institution_id": institution,
                        "name": f"报警基准机构{institution}",
                        "town": "street-ximen",
                        "registrar": "samr",
                    },
                    ensure_ascii=False,
                ).encode(),
            )
        )
        for device in devices[start : start + per_institution]:
            events.append(
                (
                    institution,
                    json.dumps(
                        {
                            "type": "device-registered",
                            "event_id": f"{run}-dev-{device}",
                            "occurred_at": datetime.now(UTC).isoformat(),
                            "device_id": device,
                            "institution_id": institution,
                            # Silent after its alarm, it must not go offline during the run.
                            "keepalive_interval": 3600,
                            **secrets_of(device),
                        }
                    ).encode(),
                )
            )
    return events


class Sender(asyncio.DatagramProtocol):
    """One UDP socket for every device: MESSAGE transactions by Call-ID, retransmitted until a
    final answer; the platform's requests (its Response MESSAGE, a catalog query) get 200."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.answered_at: dict[str, float] = {}
        self.retransmissions = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        head, _, _ = data.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        call_id = headers.get("call-id", "")
        if lines[0].startswith("SIP/2.0 "):
            status = int(lines[0].split()[1])
            if status >= 200 and call_id in self.pending:
                del self.pending[call_id]
                self.status[call_id] = status
                self.answered_at[call_id] = time.perf_counter()
            return
        if not lines[0].startswith("ACK "):
            reply = "SIP/2.0 200 OK\r\n" + "".join(
                f"{name}: {headers[name.lower()]}\r\n"
                for name in ("Via", "From", "To", "Call-ID", "CSeq")
                if name.lower() in headers
            )
            assert self.transport is not None
            self.transport.sendto((reply + "Content-Length: 0\r\n\r\n").encode(), addr)

    async def transaction(self, call_id: str, data: bytes, target: tuple[str, int]) -> None:
        assert self.transport is not None
        self.pending[call_id] = data
        began, interval = time.perf_counter(), T1
        self.transport.sendto(data, target)
        while call_id in self.pending:
            await asyncio.sleep(0.01)  # answers are noticed within 10 ms
            waited = time.perf_counter() - began
            if waited > TIMER_F:
                self.pending.pop(call_id, None)
                return
            if call_id in self.pending and waited >= interval:
                self.retransmissions += 1
                self.transport.sendto(data, target)
                interval += min(T2, interval)


def alarm_message(device: str, sn: int) -> tuple[str, bytes]:
    when = datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
    data = sip_message(alarm_xml(device, sn=sn, priority=2, when=when), device)
    call_id = next(
        line.split(":", 1)[1].strip()
        for line in data.split(b"\r\n\r\n")[0].decode().split("\r\n")
        if line.lower().startswith("call-id:")
    )
    return call_id, data


def topic_end(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    parts = [
        TopicPartition(topics.CAMERA_ALARMS, p)
        for p in consumer.partitions_for_topic(topics.CAMERA_ALARMS) or ()
    ]
    ends: dict[TopicPartition, int] = consumer.end_offsets(parts)
    consumer.close()
    return ends


def alarms_on_topic(
    bootstrap: str, start: dict[TopicPartition, int], devices: set[str]
) -> set[str]:
    """The devices with an alarm on the topic after `start`, read to the current end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    consumer.assign(list(start))
    for tp, offset in start.items():
        consumer.seek(tp, offset)
    ends = consumer.end_offsets(list(start))
    seen: set[str] = set()
    while any(consumer.position(tp) < ends[tp] for tp in start):
        for batch in consumer.poll(timeout_ms=500).values():
            for record in batch:
                event = json.loads(record.value)
                if event.get("kind") not in NOT_ALARMS and event.get("device_id") in devices:
                    seen.add(event["device_id"])
    consumer.close()
    return seen


async def burst(
    stack: Stack,
    alarms: int,
    seconds: float,
    per_institution: int = 10,
    drain_limit: float = 1800.0,
) -> dict[str, Any]:
    settings = stack.settings
    target = (settings.sip_host, settings.sip_port)
    run = uuid.uuid4().hex[:6]
    devices = [f"5226010000132{int(run, 16) % 10**3:03d}{i:04d}" for i in range(alarms)]
    engine = make_engine(settings.resolved_database_url, writer=False)
    sessions = session_factory(engine)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    publisher.publish_all(topics.REGISTRY, registry_events(run, devices, per_institution))
    publisher.close()

    def known() -> int:
        with sessions() as session:
            found = session.exec(select(Device.id).where(col(Device.id).in_(devices))).all()
            return len(found)

    assert await eventually(lambda: known() >= len(devices), 600), "devices not in the registry"
    registering = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda d: register(target, d)[1], devices))
    refused = [r[:40] for r in replies if not r.startswith(b"SIP/2.0 200")]
    assert not refused, refused[:3]
    registered_s = time.perf_counter() - registering
    start = await asyncio.to_thread(topic_end, settings.kafka_bootstrap)

    loop = asyncio.get_running_loop()
    transport, sender = await loop.create_datagram_endpoint(Sender, local_addr=("127.0.0.1", 0))
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    by_call: dict[str, str] = {}
    tasks = []
    began = time.perf_counter()
    for i, device in enumerate(devices):
        await asyncio.sleep(max(0.0, began + i * seconds / alarms - time.perf_counter()))
        call_id, data = alarm_message(device, i + 1)
        by_call[call_id] = device
        tasks.append(asyncio.create_task(sender.transaction(call_id, data, target)))
    sent_s = time.perf_counter() - began
    await asyncio.gather(*tasks)
    transport.close()
    ok = {by_call[c] for c, status in sender.status.items() if status == 200}
    last_ok = max(
        (sender.answered_at[c] for c in sender.status if sender.status[c] == 200), default=began
    )

    def in_cases() -> set[str]:
        with sessions() as session:
            ids = session.exec(
                select(Case.source_event_id).where(
                    col(Case.source_event_id).like(f"alarm:5226010000132{devices[0][13:16]}%")
                )
            ).all()
        return {i.split(":")[1] for i in ids} & ok

    reached: set[str] = set()
    deadline = time.perf_counter() + drain_limit
    while len(reached) < len(ok) and time.perf_counter() < deadline:
        reached = await asyncio.to_thread(in_cases)
        await asyncio.sleep(0.2)
    drained_at = time.perf_counter()
    on_topic = await asyncio.to_thread(
        alarms_on_topic, settings.kafka_bootstrap, start, set(devices)
    )
    engine.dispose()
    others: dict[str, int] = {}
    for status in sender.status.values():
        if status != 200:
            others[str(status)] = others.get(str(status), 0) + 1
    drain = drained_at - last_ok
    return {
        "alarms": alarms,
        "devices": len(devices),
        "registration_s": round(registered_s, 1),
        "target_send_s": seconds,
        "send_s": round(sent_s, 2),
        "sent_per_s": round(alarms / sent_s, 1),
        "answered_200": len(ok),
        "answered_otherwise": others,
        "unanswered": alarms - len(sender.status),
        "retransmissions": sender.retransmissions,
        "last_200_after_last_send_s": round(last_ok - began - sent_s, 2),
        "answered_200_on_topic": len(ok & on_topic),
        "answered_200_in_a_case": len(reached),
        "drain_s": round(drain, 1),
        "drained": len(reached) == len(ok),  # false: stopped at the drain limit
        "cases_per_s_in_drain": round(len(reached) / (drained_at - began), 1),
    }


def report(result: dict[str, Any]) -> None:
    for key, value in result.items():
        print(f"{key:<32}{value!s:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alarms", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument(
        "--per-institution",
        type=int,
        default=10,
        help="devices per institution: alarms of one institution join its open case",
    )
    parser.add_argument(
        "--drain-limit", type=float, default=1800, help="seconds to wait for the cases"
    )
    parser.add_argument("--broker", default="tansu", choices=["tansu", "kafka"])
    parser.add_argument("--out", type=Path, default=Path("bench/results/sip_burst.json"))
    args = parser.parse_args()
    from bench.throughput import bench_settings

    stack = Stack(bench_settings(args.broker), temporal_ui=False).start()
    load = [os.getloadavg()[0]]
    try:
        result = asyncio.run(
            burst(stack, args.alarms, args.seconds, args.per_institution, args.drain_limit)
        )
    finally:
        stack.stop()
    load.append(os.getloadavg()[0])
    result["load_average_1min"] = {"start": round(load[0], 2), "end": round(load[1], 2)}
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
