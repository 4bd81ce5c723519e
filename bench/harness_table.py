"""The harness's table: one value column per topology measured, side by side
(bench/harness.py)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

# Piped to a file, rich would wrap the columns at 80.
console = Console() if sys.stdout.isatty() else Console(width=130)
Row = tuple[str, str, str]  # measure, value, target


def throughput_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if "mix" in result:
        rows.append(("mix through the whole path", f"{result['mix']['events_per_s']} events/s", ""))
    if "complaints_whole_path_per_s" in result:
        rows.append(
            ("complaints through the whole path", f"{result['complaints_whole_path_per_s']} /s", "")
        )
    if "complaints_direct_per_s" in result:
        rows += [
            (
                "same complaints by direct signal-with-start",
                f"{result['complaints_direct_per_s']} /s",
                "",
            ),
            ("ratio whole path / direct", f"{result['ratio_to_direct']:.3f}", ">= 0.9"),
            (
                "bare signal-with-start (no worker)",
                f"{result['bare_signal_with_start_per_s']} /s",
                "",
            ),
            ("ratio mix / bare", f"{result['ratio_to_bare']:.3f}", ""),
        ]
    if "minimal_case_sandboxed_per_s" in result:
        for name in ("sandboxed", "unsandboxed"):
            rows.append(
                (
                    f"minimal case-shaped workflow, {name}",
                    f"{result[f'minimal_case_{name}_per_s']} /s",
                    "",
                )
            )
        rows += [
            (
                "whole path ÷ minimal case (unsandboxed)",
                f"{result['ratio_to_minimal_unsandboxed']:.3f}",
                ">= 0.9",
            ),
            (
                "whole path ÷ minimal case (sandboxed)",
                f"{result['ratio_to_minimal_sandboxed']:.3f}",
                "",
            ),
        ]
    if "minimal_case_with_opening_writes_per_s" in result:
        rows += [
            (
                "minimal case + tuoyu's opening writes",
                f"{result['minimal_case_with_opening_writes_per_s']} /s",
                "",
            ),
            (
                "  ÷ minimal case (unsandboxed): the ceiling",
                f"{result['minimal_with_writes_to_minimal_unsandboxed']:.3f}",
                "",
            ),
            (
                "whole path ÷ minimal case + writes",
                f"{result['ratio_to_minimal_with_opening_writes']:.3f}",
                "",
            ),
        ]
    return rows


def latency_rows(lat: dict[str, Any]) -> list[Row]:
    return [
        ("latency load (half the capacity measured)", f"{lat['rate_per_s']} /s", ""),
        ("HTTP 202 -> dispatch p50", f"{lat['p50_s']} s", ""),
        ("HTTP 202 -> dispatch p99", f"{lat['p99_s']} s", "< 0.25 s"),
        (
            "  202 -> in the outbox p50, p99",
            f"{lat['to_outbox_p50_s']}, {lat['to_outbox_p99_s']} s",
            "",
        ),
        ("  outbox -> on the topic p50, p99", f"{lat['relay_p50_s']}, {lat['relay_p99_s']} s", ""),
    ]


def rows(result: dict[str, Any]) -> list[Row]:
    found: list[Row] = []
    if "partitions" in result:
        shape = f"{result['stream_workers']}, {result['temporal_workers']}; {result['partitions']}"
        found.append(("stream, Temporal workers; partitions", shape, ""))
    found += throughput_rows(result)
    if "latency" in result:
        found += latency_rows(result["latency"])
    if "drain" in result:
        d = result["drain"]
        found.append((f"drain of a {d['backlog']}-event backlog", f"{d['seconds']} s", ""))
    if "burst" in result:
        b = result["burst"]
        drained = "" if b["drained"] else " (stopped at the drain limit)"
        found += [
            (
                f"SIP burst: {b['alarms']} alarms sent in",
                f"{b['send_s']} s",
                f"{b['target_send_s']} s",
            ),
            ("  answered 200", str(b["answered_200"]), str(b["alarms"])),
            ("  answered 200 and on the topic", str(b["answered_200_on_topic"]), "all"),
            ("  answered 200 and in a case", str(b["answered_200_in_a_case"]), "all"),
            ("  drain: last 200 OK -> last in its case", f"{b['drain_s']} s{drained}", ""),
        ]
    if "soak" in result:
        s = result["soak"]
        for name, pct in s["growth_percent"].items():
            found.append(
                (
                    f"RSS growth over {s['minutes']} min: {name}",
                    f"{pct} % ({s['rss_mb_final'][name]} MB)",
                    "< 10 %",
                )
            )
    load = result["load_average_1min"]
    found.append(("load average (1 min) at start, end", f"{load['start']}, {load['end']}", ""))
    return found


def report(results: dict[str, dict[str, Any]]) -> None:
    """`results`: topology -> its figures. A measure one topology lacks is left blank."""
    values: dict[str, dict[str, str]] = {}
    targets: dict[str, str] = {}
    for topology, result in results.items():
        for measure, value, target in rows(result):
            values.setdefault(measure, {})[topology] = value
            targets[measure] = target
    table = Table(title="tuoyu bench harness", show_lines=False)
    table.add_column("measure")
    for topology, result in results.items():
        table.add_column(f"{topology}\n({result['broker']}, {result['database']})", justify="right")
    table.add_column("target", justify="right")
    for measure, by_topology in values.items():
        cells = [by_topology.get(topology, "") for topology in results]
        table.add_row(measure, *cells, targets[measure])
    console.print(table)
