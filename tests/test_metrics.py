"""Each process serves Prometheus metrics: the API on /metrics, the workers on their ports.

Asserted on the labelled samples' values, parsed with prometheus_client's own parser: a
counter's name is printed whether or not anything was counted, so its presence proves
nothing."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples with these labels (0 when there are none): all of a counter's
    series when no label is given."""
    return sum(
        float(s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_every_process_serves_its_metrics(stack: Stack, http: httpx.AsyncClient) -> None:
    host = stack.settings.http_host
    stream_url = f"http://{host}:{stack.settings.stream_metrics_port}/metrics"
    complaints = {"topic": "tuoyu.complaints"}
    async with httpx.AsyncClient(timeout=10) as scraper:
        stream_before = (await scraper.get(stream_url)).text
        api_before = (await http.get("/metrics")).text

        posted = await http.post(
            "/api/v1/complaints",
            json={"category": "staffing", "town": "town-lushan", "description": "指标测试"},
        )
        await wait_for_case(http, posted.json()["case_id"], handler="town-lushan")
        # Rejected and dead-lettered once (a body never sent before: a new digest).
        refused = await http.post(
            "/api/v1/complaints", json={"category": f"nonsense-{uuid.uuid4().hex}"}
        )
        assert refused.status_code == 422

        api = (await http.get("/metrics")).text
        accepted = {"method": "POST", "route": "/api/v1/complaints", "status": "202"}
        name = "tuoyu_http_request_seconds_count"
        assert sample(api, name, **accepted) == sample(api_before, name, **accepted) + 1
        dead = "tuoyu_dead_lettered_total"
        assert sample(api, dead) >= sample(api_before, dead) + 1
        assert any(
            s.name == "tuoyu_overdue_cases" and s.labels.get("kind") == "acceptance"
            for f in text_string_to_metric_families(api)
            for s in f.samples
        )

        async def stream_counted() -> bool:
            text = (await scraper.get(stream_url)).text
            return all(
                sample(text, n, **complaints) > sample(stream_before, n, **complaints)
                for n in ("tuoyu_events_in_total", "tuoyu_workflows_handed_off_total")
            )

        assert await eventually_async(stream_counted, within=30)
        worker = await scraper.get(f"http://{host}:{stack.settings.temporal_metrics_port}/metrics")
        assert worker.status_code == 200
        assert any(
            s.name.startswith("temporal_") and s.value > 0
            for f in text_string_to_metric_families(worker.text)
            for s in f.samples
        )
