"""Faust handles on the contract's topics. Values stay raw bytes so rejects keep them intact."""

from __future__ import annotations

from models import topics
from streams.app import app

complaints = app.topic(
    topics.COMPLAINTS,
    key_type=bytes,
    value_type=bytes,
    value_serializer="raw",
    key_serializer="raw",
)
dead_letter = app.topic(
    topics.DEAD_LETTER,
    key_type=bytes,
    value_type=bytes,
    value_serializer="raw",
    key_serializer="raw",
)
