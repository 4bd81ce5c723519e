"""faust tables of the camera agent. Their changelog topics are created with the contract's
topics (`models.topics.changelog_topics`), with the partition count of the alarms topic."""

from __future__ import annotations

from streams.app import app, settings

# Alarms per device in tumbling windows; kept three windows for the storm report to read.
alarm_storms = app.Table(
    "alarm-storms",
    default=int,
    partitions=settings.topic_partitions,
    help="alarms per device per storm window",
).tumbling(settings.alarm_storm_window, expires=3 * settings.alarm_storm_window)

# When each device was last heard from (keepalive or alarm), epoch seconds.
last_heard = app.Table(
    "device-last-heard",
    default=float,
    partitions=settings.topic_partitions,
    help="epoch seconds of each device's last keepalive",
)

# Seconds of silence after which each device counts as offline (0: keepalive_timeout).
offline_after = app.Table(
    "device-offline-after",
    default=float,
    partitions=settings.topic_partitions,
    help="seconds of silence after which each device counts as offline",
)
