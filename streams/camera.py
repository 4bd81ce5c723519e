"""The camera-alarms agent.

- Face-recognition matches are checked against the ban registry (a banned person opens a
  critical case).
- Other alarms are counted per device in a tumbling window: the first alarm of a window opens
  (or joins) a case at once; when the window has passed, its count goes to that case as one
  signal, so a storm of alarms is one case, not hundreds.
- Registrations, keepalives (and alarms) record when each device was last heard from; a
  device silent for longer than its timeout (3 keepalive intervals, sent by the SIP gateway
  with each registration and keepalive; default `keepalive_timeout`) raises a "video system
  not working" finding and case. A device that unregisters, or whose registration expired,
  raises it at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from faust import Stream
from faust.types import TP, EventT, StreamT
from kafka.partitioner.default import murmur2
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from infra.identity import redact
from infra.intake import InvalidEvent, parse_camera_alarm
from infra.metrics import CAMERA_CHECK_ROUNDS
from models.camera import AlarmStorm, CameraAlarm, CameraAlarmKind, DeviceAlarm, FaceMatch
from models.topics import CAMERA_ALARMS
from streams import topics
from streams.app import app, settings
from streams.handoff import hand_off, temporal
from streams.ordered_acks import OrderedAcker
from streams.registry import hasher
from streams.silence import Silence, behind
from streams.tables import alarm_storms, last_heard, offline_after
from streams.transport import Consumer
from workflows.alarms.starter import report_storm, submit_alarm
from workflows.registry.starter import handle_face_match

log = logging.getLogger(__name__)
T = TypeVar("T")
WINDOW = settings.alarm_storm_window


def parse(raw: bytes | None) -> FaceMatch | CameraAlarm:
    return parse_camera_alarm(raw, hasher())


def parse_face(raw: bytes | None) -> FaceMatch:
    parsed = parse(raw)
    if not isinstance(parsed, FaceMatch):
        raise InvalidEvent("not a face-match alarm")
    return parsed


def storm_event_id(device_id: str, window_start: float) -> str:
    return f"alarm:{device_id}:{int(window_start)}"


async def submit_face(client: Client, match: FaceMatch) -> None:
    # Started, not awaited: its workflow opens the case of a banned person itself.
    await handle_face_match(client, match, settings.temporal_task_queue)


async def submit_device_alarm(client: Client, alarm: DeviceAlarm) -> None:
    try:
        await submit_alarm(client, alarm, settings.temporal_task_queue)
    except WorkflowAlreadyStartedError:
        return  # its workflow ran and closed: a replay
    log.info("alarm %s from %s handed off", alarm.kind, alarm.device_id)


async def done() -> None:
    return None


def first_of_storm(alarm: CameraAlarm, window_start: float) -> DeviceAlarm:
    return DeviceAlarm(
        event_id=storm_event_id(alarm.device_id, window_start),
        occurred_at=alarm.occurred_at,
        kind=alarm.kind,
        device_id=alarm.device_id,
        institution_id=alarm.institution_id,
        alarm_priority=alarm.alarm_priority,
        description=alarm.description,
    )


@app.agent(topics.camera_alarms)
async def camera_intake(stream: StreamT[bytes]) -> None:
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, settings.intake_max_in_flight)
    try:
        async for event in manual.events():
            await acker.submit(event, route(event))
    finally:
        await acker.close()


def route(event: EventT[Any]) -> Any:
    """What to do with one message; tables are updated here, in stream order."""
    try:
        parsed = parse(event.value)
    except InvalidEvent:
        return hand_off(event, parse_face, submit_face, redact)  # dead-letters it
    if isinstance(parsed, FaceMatch):
        return hand_off(event, already(parsed), submit_face, redact)
    device = parsed.device_id
    heard = event.message.timestamp
    _routed[event.message.tp] = event.message.offset + 1
    _partition[device] = event.message.partition
    # Only devices that register or send keepalives are watched; an alarm also shows one
    # is alive.
    if parsed.kind in (CameraAlarmKind.KEEPALIVE, CameraAlarmKind.REGISTERED):
        last_heard[device] = max(last_heard[device], heard)
        if parsed.offline_after and offline_after[device] != parsed.offline_after:
            offline_after[device] = parsed.offline_after
        return done()
    if parsed.kind is CameraAlarmKind.UNREGISTERED:
        if not last_heard[device]:
            return done()  # never online here: nothing stops working
        last_heard[device] = 0.0  # not watched until it registers again
        offline = DeviceAlarm(
            event_id=f"offline:{device}:{int(heard)}",
            occurred_at=parsed.occurred_at,
            kind=CameraAlarmKind.DEVICE_OFFLINE,
            device_id=device,
            institution_id=parsed.institution_id,
            description=parsed.description or "设备已注销",
        )
        return hand_off(event, already(offline), submit_device_alarm, redact)
    if last_heard[device]:
        last_heard[device] = max(last_heard[device], heard)
    alarm_storms[device] += 1
    start = heard - heard % WINDOW  # the tumbling window's start, as faust computes it
    if alarm_storms[device].current() > 1 and (device, start) in _opened:
        return done()  # counted; the storm report carries it to the case
    # The first alarm of the window, or the first this process sees: the table's changelog
    # may hold the count of an alarm whose hand-off a killed worker never finished (its
    # offset was not committed, so it comes again; the fault matrix lost 14 of 18 alarms
    # so). Handing it off again is idempotent by the window's event id.
    _opened.add((device, start))
    first = first_of_storm(parsed, start)
    return hand_off(event, already(first), submit_device_alarm, redact)


_opened: set[tuple[str, float]] = set()  # windows whose first alarm this process handed off


def already(value: T) -> Callable[[bytes | None], T]:
    return lambda _raw: value


def timeout_of(device: str) -> float:
    return offline_after[device] or settings.keepalive_timeout


# -- the periodic look at both tables --------------------------------------------------------

_reported: set[tuple[str, float]] = set()
_raised: set[tuple[str, float]] = set()


# The partition each device was last heard on, and the offset after the last event routed on
# each partition: what `streams.silence` judges silence by.
_partition: dict[str, int] = {}
_routed: dict[TP, int] = {}
silence = Silence()


def partition_of(device: str) -> TP:
    """Where the device's events are: as last read, or where kafka-python's default
    partitioner (the SIP gateway's and the API's producers) puts its key."""
    found = _partition.get(device)
    if found is None:
        found = (murmur2(device.encode()) & 0x7FFFFFFF) % settings.topic_partitions
    return TP(CAMERA_ALARMS, found)


def watch_partitions(now: float) -> None:
    consumer = cast(Consumer, app.consumer)

    def is_behind(tp: TP) -> bool:
        highwater, fetched_at = consumer.fetched(tp)
        return behind(highwater, fetched_at, _routed.get(tp), consumer.head(tp), now)

    assigned = [tp for tp in consumer.assignment() if tp.topic == CAMERA_ALARMS]
    silence.watch({tp: is_behind(tp) for tp in assigned}, now)


@app.timer(interval=settings.camera_check_interval)
async def check_devices() -> None:
    """Storm counts of windows that have passed, and devices gone silent. Both are idempotent
    downstream (signal and workflow ids by device and time), so a restart that repeats them
    is harmless."""
    now = time.time()
    try:
        client = await temporal()
    except (ConnectionError, RuntimeError) as exc:
        # An exception here would crash the whole worker (faust stops the app when a timer
        # raises): a stream worker started during a Temporal outage did so.
        log.warning("cannot reach Temporal (%r); devices are looked at next round", exc)
        return
    for (device, (start, end)), count in list(alarm_storms.table.items()):
        if end > now or count < 2 or (device, start) in _reported:
            continue
        first = DeviceAlarm(
            event_id=storm_event_id(device, start),
            occurred_at=datetime.fromtimestamp(start, UTC),
            kind=CameraAlarmKind.OTHER,
            device_id=device,
        )
        storm = AlarmStorm(
            event_id=f"storm:{device}:{int(start)}",
            count=count,
            window_start=datetime.fromtimestamp(start, UTC),
            window_end=datetime.fromtimestamp(start + WINDOW, UTC),
        )
        try:
            if await report_storm(client, first, storm):
                _reported.add((device, start))
                log.info("alarm storm from %s: %d alarms", device, count)
        except Exception:
            log.exception("storm report for %s failed; next round retries", device)
    _reported.intersection_update({(d, s) for (d, (s, _)) in list(alarm_storms.table.keys())})
    _opened.intersection_update({(d, s) for (d, (s, _)) in list(alarm_storms.table.keys())})
    watch_partitions(now)
    silent = [
        found
        for found in silence.silent(list(last_heard.items()), partition_of, timeout_of, now)
        if found not in _raised
    ]
    limit = asyncio.Semaphore(settings.intake_max_in_flight)

    async def raise_finding(device: str, heard: float) -> None:
        timeout = timeout_of(device)
        offline = DeviceAlarm(
            event_id=f"offline:{device}:{int(heard)}",
            occurred_at=datetime.fromtimestamp(heard + timeout, UTC),
            kind=CameraAlarmKind.DEVICE_OFFLINE,
            device_id=device,
            description=f"心跳中断超过 {int(timeout)} 秒",
        )
        async with limit:
            try:
                await submit_device_alarm(client, offline)
                _raised.add((device, heard))
                log.warning("device %s silent for %.0fs: finding raised", device, now - heard)
            except Exception:
                log.exception("offline finding for %s failed; next round retries", device)

    await asyncio.gather(*(raise_finding(d, h) for d, h in silent))
    CAMERA_CHECK_ROUNDS.inc()
