"""Modules that read like the plan (issue 17, findings 2 and 3), checked on the source: no
module in workflows/ or api/ over 300 lines without a reason in its docstring; the ladder and
routing are pure rules, routing shared by the API and the `open_case` activity; the API
imports no activities module; every workflow runs its local activities through the typed
`workflows.local.local`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_LINES = 300  # a longer module says why in its docstring, naming "300 lines"
IO = ("sqlmodel", "sqlalchemy", "kafka", "fastapi", "httpx", "infra.db", "infra.kafka")


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (REPO / f).rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("path", sources("workflows", "api"), ids=rel)
def test_no_module_over_300_lines_without_a_stated_reason(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
    assert lines <= MAX_LINES or f"{MAX_LINES} lines" in doc, f"{rel(path)}: {lines} lines"


def test_the_ladder_and_routing_are_pure_rules() -> None:
    for name in ("workflows/cases/ladder.py", "workflows/cases/routing.py"):
        heavy = {i for i in imports(REPO / name) if i.startswith(("temporalio", *IO))}
        assert heavy == set(), (name, heavy)
    ladder = imports(REPO / "workflows/cases/ladder.py")
    assert {i for i in ladder if i.startswith("infra")} == set()  # a workflow module: no infra


def test_routing_is_one_rule_the_api_and_the_opening_activity_share() -> None:
    assert "workflows.cases.routing" in imports(REPO / "api/access.py")
    assert "workflows.cases.routing.route" in imports(REPO / "workflows/cases/open_case.py")
    # ... and the catalogue's lead departments are read nowhere else in the API.
    for path in sources("api"):
        assert ".lead" not in path.read_text("utf-8"), rel(path)


def test_the_api_imports_no_activities_module() -> None:
    activity_modules = {
        rel(p)[:-3].replace("/", ".")
        for p in sources("workflows")
        if "@activity.defn" in p.read_text("utf-8")
    }
    for path in sources("api"):
        wrong = {i for i in imports(path) if i in activity_modules}
        assert wrong == set(), (rel(path), wrong)


def test_workflows_run_local_activities_only_through_the_typed_helper() -> None:
    for path in sources("workflows"):
        if rel(path) == "workflows/local.py":
            continue
        text = path.read_text("utf-8")
        assert "execute_local_activity_method" not in text, rel(path)
        assert "def _local(" not in text, rel(path)


def test_case_workflow_modules_touch_no_io_library() -> None:
    for path in sources("workflows/cases"):
        found = imports(path)
        if "temporalio.workflow" not in found:
            continue  # an activity or a pure rule module
        heavy = {i for i in found if i.startswith(IO) or i.startswith("infra")}
        assert heavy == set(), (rel(path), heavy)
