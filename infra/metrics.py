"""Prometheus metrics of tuoyu's own processes (the Temporal SDK adds its own in the
Temporal worker: workflow and activity counts and latencies)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("tuoyu_events_in", "Inbound events read from Kafka", ["topic"])
DEAD_LETTERED = Counter("tuoyu_dead_lettered", "Inputs sent to the dead-letter topic", ["source"])
HANDED_OFF = Counter(
    "tuoyu_workflows_handed_off", "Inbound events handed to their workflows", ["topic"]
)
OFFSET_REWINDS = Counter(
    "tuoyu_offset_rewinds",
    "Partitions read again from an event faust dropped before its hand-off",
    ["topic"],
)
HANDOFF_SECONDS = Histogram(
    "tuoyu_handoff_seconds", "From reading an event to its workflow accepting it", ["topic"]
)
HTTP_SECONDS = Histogram(
    "tuoyu_http_request_seconds", "HTTP requests by route and status", ["method", "route", "status"]
)
OVERDUE_CASES = Gauge(
    "tuoyu_overdue_cases", "Open cases past their acceptance or resolution deadline", ["kind"]
)
SIP_REQUESTS = Counter(
    "tuoyu_sip_requests", "SIP requests answered by the gateway", ["method", "status"]
)
CAMERA_CHECK_ROUNDS = Counter(
    "tuoyu_camera_check_rounds",
    "Rounds of the storm and keepalive watch finished (a stopped watch stops counting)",
)
SIP_REGISTERED = Gauge("tuoyu_sip_registered_devices", "Devices currently registered (SIP)")
