"""The harness's table puts each topology's figures in a column of its own (pure logic: the
figures are the shape `bench/harness.py` writes)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from bench import harness_table


def figures(whole_path: float, p99: float, partitions: int) -> dict[str, Any]:
    return {
        "broker": "kafka",
        "database": "postgresql",
        "stream_workers": 2 if partitions == 6 else 1,
        "temporal_workers": 2 if partitions == 6 else 1,
        "partitions": partitions,
        "complaints_whole_path_per_s": whole_path,
        "minimal_case_sandboxed_per_s": 30.0,
        "minimal_case_unsandboxed_per_s": 40.0,
        "ratio_to_minimal_sandboxed": round(whole_path / 30, 3),
        "ratio_to_minimal_unsandboxed": round(whole_path / 40, 3),
        "minimal_case_with_opening_writes_per_s": 20.0,
        "minimal_with_writes_to_minimal_unsandboxed": 0.5,
        "ratio_to_minimal_with_opening_writes": round(whole_path / 20, 3),
        "latency": {
            "rate_per_s": whole_path / 2,
            "p50_s": 0.06,
            "p99_s": p99,
            "to_outbox_p50_s": 0.05,
            "to_outbox_p99_s": 0.2,
            "relay_p50_s": 0.01,
            "relay_p99_s": 0.03,
        },
        "load_average_1min": {"start": 8.0, "end": 7.0},
    }


def test_two_topologies_side_by_side(monkeypatch: Any) -> None:
    console = Console(record=True, width=160)
    monkeypatch.setattr(harness_table, "console", console)
    harness_table.report({"embedded": figures(15.0, 0.285, 4), "cluster": figures(10.1, 0.6, 6)})
    text = console.export_text()
    line = next(row for row in text.splitlines() if "complaints through the whole path" in row)
    assert line.index("15.0 /s") < line.index("10.1 /s")
    p99 = next(row for row in text.splitlines() if "HTTP 202 -> dispatch p99" in row)
    assert "0.285 s" in p99 and "0.6 s" in p99 and "< 0.25 s" in p99
    assert "embedded" in text and "cluster" in text
    shape = next(row for row in text.splitlines() if "workers; partitions" in row)
    assert "1, 1; 4" in shape and "2, 2; 6" in shape


def test_a_measure_one_topology_lacks_is_blank(monkeypatch: Any) -> None:
    console = Console(record=True, width=160)
    monkeypatch.setattr(harness_table, "console", console)
    embedded = figures(15.0, 0.285, 4)
    embedded["drain"] = {"backlog": 1000, "seconds": 12.5}
    harness_table.report({"embedded": embedded, "cluster": figures(10.1, 0.6, 6)})
    line = next(r for r in console.export_text().splitlines() if "drain of a 1000" in r)
    assert line.count("12.5 s") == 1


def test_the_ceiling_the_opening_writes_leave_is_printed(monkeypatch: Any) -> None:
    console = Console(record=True, width=160)
    monkeypatch.setattr(harness_table, "console", console)
    harness_table.report({"embedded": figures(15.0, 0.285, 4)})
    text = console.export_text().splitlines()
    assert "20.0 /s" in next(r for r in text if "minimal case + tuoyu's opening writes" in r)
    assert "0.500" in next(r for r in text if "the ceiling" in r)
    assert "0.750" in next(r for r in text if "whole path ÷ minimal case + writes" in r)
