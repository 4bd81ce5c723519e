"""The camera-alarms agent: a face-recognition match of a banned person opens a critical
case. Other alarm kinds are acknowledged here and left to the alarm-intake path."""

from __future__ import annotations

import logging
from typing import cast

from faust import Stream
from faust.types import StreamT
from temporalio.client import Client

from infra.identity import redact
from infra.intake import parse_camera_alarm
from models.camera import FaceMatch
from streams import topics
from streams.app import app, settings
from streams.handoff import hand_off
from streams.ordered_acks import OrderedAcker
from streams.registry import hasher
from workflows.registry.starter import handle_face_match

log = logging.getLogger(__name__)


def parse(raw: bytes | None) -> FaceMatch | None:
    return parse_camera_alarm(raw, hasher())


async def submit(client: Client, match: FaceMatch | None) -> None:
    if match is None:
        return
    case_id = await handle_face_match(client, match, settings.temporal_task_queue)
    if case_id:
        log.warning("banned person seen by camera %s: case %s opened", match.device_id, case_id)


@app.agent(topics.camera_alarms)
async def camera_intake(stream: StreamT[bytes]) -> None:
    manual = cast(Stream[bytes], stream).noack()
    acker = OrderedAcker(manual, settings.intake_max_in_flight)
    try:
        async for event in manual.events():
            await acker.submit(event, hand_off(event, parse, submit, redact))
    finally:
        await acker.close()
