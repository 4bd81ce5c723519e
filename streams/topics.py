"""Faust handles on the contract's topics. Values stay raw bytes so rejects keep them intact."""

from __future__ import annotations

from faust.types import TopicT

from models import topics
from streams.app import app


def raw_topic(name: str) -> TopicT:
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


complaints = raw_topic(topics.COMPLAINTS)
inspections = raw_topic(topics.INSPECTIONS)
registry = raw_topic(topics.REGISTRY)
camera_alarms = raw_topic(topics.CAMERA_ALARMS)
dead_letter = raw_topic(topics.DEAD_LETTER)
