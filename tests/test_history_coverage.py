"""Every workflow type and every `workflow.patched` branch has a recorded history.

`tests/test_history_replay.py` replays what is in `data/histories/`; this makes sure that is
everything: a new workflow type, or a new patch id, without a history (and a row in
`data/histories/README.md`) fails here. Pure file and source reading, no server.
"""

from __future__ import annotations

import ast
import base64
import importlib
import json
import pkgutil
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import workflows
from workers.temporal_worker import WORKFLOWS

HISTORIES = Path(__file__).parent / "data" / "histories"
README = HISTORIES / "README.md"
PATCH_CALLS = {"patched", "deprecate_patch"}


@dataclass(frozen=True)
class Recorded:
    workflow_type: str
    patches: frozenset[str]


def _definition_name(cls: type) -> str | None:
    definition = getattr(cls, "__temporal_workflow_definition", None)
    return getattr(definition, "name", None)


@cache
def workflow_types() -> dict[str, str]:
    """Every `@workflow.defn` class in `workflows/`: its registered name -> module."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(workflows.__path__, "workflows."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name:
                name = _definition_name(value)
                if name is not None:
                    found[name] = info.name
    return found


@cache
def patch_ids() -> dict[str, str]:
    """Every id passed to `workflow.patched` / `workflow.deprecate_patch` in `workflows/`
    (a literal, or a module-level constant): id -> where it is asked."""
    found: dict[str, str] = {}
    root = Path(workflows.__file__).parent
    for path in sorted(root.rglob("*.py")):
        module_name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in PATCH_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "workflow"
                and node.args
            ):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                patch = arg.value
            else:
                assert isinstance(arg, ast.Name), f"{path}:{node.lineno}: patch id not a name"
                patch = getattr(importlib.import_module(module_name), arg.id)
            found[patch] = f"{module_name}:{node.lineno}"
    return found


def _patch_markers(events: list[dict[str, object]]) -> set[str]:
    """The ids of the `core_patch` markers, as the Temporal core SDK records them: a JSON
    payload `{"id": ..., "deprecated": ...}` under the details' `patch-data`."""
    ids: set[str] = set()
    for event in events:
        marker = event.get("markerRecordedEventAttributes")
        if not isinstance(marker, dict) or marker.get("markerName") != "core_patch":
            continue
        for payload in marker["details"]["patch-data"]["payloads"]:
            ids.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return ids


@cache
def recorded() -> dict[str, Recorded]:
    found: dict[str, Recorded] = {}
    for path in sorted(HISTORIES.glob("*.json")):
        events = json.loads(path.read_text())["events"]
        started = events[0]["workflowExecutionStartedEventAttributes"]
        found[path.name] = Recorded(
            started["workflowType"]["name"], frozenset(_patch_markers(events))
        )
    return found


def _table(heading: str) -> list[list[str]]:
    """The rows of the table under `## heading` in the README, cells stripped."""
    section = README.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _files(cell: str) -> list[str]:
    return re.findall(r"`([^`]+\.json)`", cell)


def _names(cell: str) -> set[str]:
    return set() if cell in ("", "—") else {name.strip() for name in cell.split(",")}


def _differ(one: str, ones: set[str], other: str, others: set[str]) -> str:
    return f"{one}s without a {other}: {sorted(ones - others)}; {other}s without a {one}: " + str(
        sorted(others - ones)
    )


def test_the_worker_registers_every_workflow_type() -> None:
    """The replayer (and the worker) know every type: a type missing there cannot replay."""
    assert {_definition_name(w) for w in WORKFLOWS} == set(workflow_types())


def test_every_workflow_type_has_a_recorded_history() -> None:
    types = {r.workflow_type for r in recorded().values()}
    missing = sorted(set(workflow_types()) - types)
    assert not missing, f"no history in {HISTORIES} of {missing}: python -m tests.record_history"


def test_every_patch_id_is_taken_in_a_recorded_history() -> None:
    taken = set().union(*(r.patches for r in recorded().values()))
    missing = {p: where for p, where in patch_ids().items() if p not in taken}
    assert not missing, f"no history records these patches: {missing}"


def test_every_history_has_a_row_that_matches_it() -> None:
    rows = {_files(row[0])[0]: row for row in _table("Files")}
    assert set(rows) == set(recorded()), _differ("file", set(recorded()), "row", set(rows))
    for name, history in recorded().items():
        _, workflow_type, patches, scenario, commit = rows[name]
        assert workflow_type == history.workflow_type, name
        assert _names(patches) == history.patches, name
        assert scenario and re.fullmatch(r"[0-9a-f]{7,40}", commit), name


def test_every_patch_has_its_old_branch_covered_or_a_reason() -> None:
    rows = {row[0]: row for row in _table("Patch branches")}
    assert set(rows) == set(patch_ids()), _differ("patch", set(patch_ids()), "row", set(rows))
    histories = recorded()
    for patch, (_, _, taken_in, not_taken_in) in rows.items():
        taking = _files(taken_in)
        assert taking and all(patch in histories[f].patches for f in taking), patch
        types = {histories[f].workflow_type for f in taking}
        if not_taken_in.startswith("none:"):
            continue
        old = _files(not_taken_in)
        assert old, f"{patch}: name a history without the patch, or give the reason"
        for name in old:
            assert patch not in histories[name].patches, f"{name} takes {patch}"
            assert histories[name].workflow_type in types, f"{name} is not of {types}"
