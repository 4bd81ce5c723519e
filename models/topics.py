"""Kafka topic names of the external contract."""

from typing import Final

COMPLAINTS: Final = "tuoyu.complaints"
INSPECTIONS: Final = "tuoyu.inspections"
CAMERA_ALARMS: Final = "tuoyu.camera-alarms"
REGISTRY: Final = "tuoyu.registry"
NOTIFICATIONS: Final = "tuoyu.notifications"
CREDIT_PLATFORM: Final = "tuoyu.credit-platform"
DEAD_LETTER: Final = "tuoyu.dead-letter"
# Every signed tree head of the audit log, a witness outside the database.
AUDIT_CHECKPOINTS: Final = "tuoyu.audit-checkpoints"

INBOUND: Final = (COMPLAINTS, INSPECTIONS, CAMERA_ALARMS, REGISTRY)
OUTBOUND: Final = (NOTIFICATIONS, CREDIT_PLATFORM, DEAD_LETTER, AUDIT_CHECKPOINTS)
ALL: Final = INBOUND + OUTBOUND

# The stream worker's faust tables (all keyed by device, on `tuoyu.camera-alarms`); their
# changelog topics must exist, with that topic's partition count, before the worker starts.
STREAM_TABLES: Final = ("alarm-storms", "device-last-heard", "device-offline-after")


def changelog_topics(app_id: str) -> list[str]:
    return [f"{app_id}-{name}-changelog" for name in STREAM_TABLES]
