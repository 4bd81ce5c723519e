"""Each process serves Prometheus metrics: the API on /metrics, the workers on their ports."""

from __future__ import annotations

import httpx

from tests.polling import eventually_async, wait_for_case
from workers.stack import Stack


async def test_every_process_serves_its_metrics(stack: Stack, http: httpx.AsyncClient) -> None:
    posted = await http.post(
        "/api/v1/complaints",
        json={"category": "staffing", "town": "town-lushan", "description": "指标测试"},
    )
    await wait_for_case(http, posted.json()["case_id"], handler="town-lushan")
    await http.post("/api/v1/complaints", json={"category": "nonsense"})  # dead-lettered

    api = (await http.get("/metrics")).text
    assert (
        'tuoyu_http_request_seconds_count{method="POST",route="/api/v1/complaints",status="202"}'
        in api
    )
    assert 'tuoyu_overdue_cases{kind="acceptance"}' in api
    assert "tuoyu_dead_lettered_total" in api

    host = stack.settings.http_host
    async with httpx.AsyncClient(timeout=10) as scraper:

        async def stream_counted() -> bool:
            text = (
                await scraper.get(f"http://{host}:{stack.settings.stream_metrics_port}/metrics")
            ).text
            return 'tuoyu_events_in_total{topic="tuoyu.complaints"}' in text and (
                'tuoyu_workflows_handed_off_total{topic="tuoyu.complaints"}' in text
            )

        assert await eventually_async(stream_counted, within=30)
        worker = await scraper.get(f"http://{host}:{stack.settings.temporal_metrics_port}/metrics")
        assert worker.status_code == 200 and "temporal_" in worker.text
