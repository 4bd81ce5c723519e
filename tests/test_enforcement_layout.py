"""The enforcement family reads like the plan (issue 17, findings 2 and 3), checked on the
source and on the pure step table: one concern a module and none over 300 lines; the credit
steps dispatched through one table, not compared as strings; local activities through the
typed `workflows.local.local`; the enforcement workflow id and the credit entry id built in
`models/` only. Pure file reading and pure functions, no server."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from models.actors import SYSTEM, Actor, Role
from models.credit import CreditPlan, CreditStep, Measure, case_of_credit_entry, credit_entry_id
from models.credit_repair import RepairStep
from models.credit_steps import CreditStepKind
from models.enforcement import enforcement_workflow_id

REPO = Path(__file__).resolve().parent.parent
FAMILY = sorted((REPO / "workflows" / "enforcement").rglob("*.py"))
ROUTES = [REPO / "api" / f"routes_{n}.py" for n in ("enforcement", "bans", "credit", "integrity")]
# Where ids could be built by hand: every caller of the enforcement family, the case
# workflow (which starts the enforcement workflow) among them.
CALLERS = [
    *sorted((REPO / "workflows").rglob("*.py")),
    *sorted((REPO / "api").rglob("*.py")),
    *sorted((REPO / "workers").rglob("*.py")),
    *sorted((REPO / "tests").glob("*.py")),
]
HAND_BUILT_ID = re.compile(
    r"""f["'](enforcement|credit)-\{|removeprefix\(\s*f?["'](enforcement|credit)-"""
)
STRING_STEP = re.compile(
    r"""\.(step|stage)\s*(==|!=)\s*["']|\.(step|stage)\s+in\s*\(\s*["']|\.(step|stage)\.startswith\("""
)
AT = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", [*FAMILY, *ROUTES], ids=rel)
def test_no_enforcement_module_over_300_lines_without_a_stated_reason(path: Path) -> None:
    text = path.read_text("utf-8")
    doc = ast.get_docstring(ast.parse(text)) or ""
    lines = len(text.splitlines())
    assert lines <= 300 or "300 lines" in doc, f"{rel(path)}: {lines} lines"


def test_each_family_has_its_own_workflows_and_activities() -> None:
    for family in ("bans", "decisions", "credit"):
        for module in ("workflows", "activities"):
            assert (REPO / "workflows" / "enforcement" / family / f"{module}.py").exists()


@pytest.mark.parametrize("path", FAMILY, ids=rel)
def test_credit_steps_and_stages_are_not_dispatched_as_strings(path: Path) -> None:
    text = path.read_text("utf-8")
    assert not STRING_STEP.findall(text), rel(path)
    # ... and a workflow names its steps by the enum only.
    for value in CreditStepKind:
        assert f'_step("{value}"' not in text, (rel(path), value)


@pytest.mark.parametrize("path", FAMILY, ids=rel)
def test_local_activities_run_through_the_typed_helper(path: Path) -> None:
    text = path.read_text("utf-8")
    assert "execute_local_activity_method" not in text, rel(path)
    assert "def _local(" not in text, rel(path)


@pytest.mark.parametrize("path", CALLERS, ids=rel)
def test_enforcement_and_credit_ids_are_built_in_models_only(path: Path) -> None:
    assert not HAND_BUILT_ID.findall(path.read_text("utf-8")), rel(path)


def test_the_ids_keep_their_recorded_form() -> None:
    """The recorded histories and the running workflows carry these ids: never change them."""
    assert enforcement_workflow_id("TY20260501ABCDEF0123") == "enforcement-TY20260501ABCDEF0123"
    assert credit_entry_id("TY20260501ABCDEF0123") == "credit-TY20260501ABCDEF0123"
    assert case_of_credit_entry(credit_entry_id("TY1")) == "TY1"


def test_every_step_has_one_row_and_keeps_its_recorded_value() -> None:
    from workflows.enforcement.credit.steps import STEPS

    assert set(STEPS) == set(CreditStepKind)
    # The audit trail's `credit.<step>` actions and the idempotency keys use these values.
    assert [s.value for s in CreditStepKind] == [
        *("noticed", "objected", "withdrawn", "objection-rejected", "published"),
        *("acknowledged", "reminded", "escalated", "removed", "repair-requested"),
        *("repair-reviewed", "not-published", "committed", "lifting"),
        *("lifting-acknowledged", "lifting-reminded", "lifting-escalated", "lifted"),
    ]


def _credit(kind: CreditStepKind, actor: Actor = SYSTEM, **extra: object) -> CreditStep:
    plan = CreditPlan(objection_by=AT, acknowledge_by=AT, acknowledge_final_by=AT)
    return CreditStep(entry_id="credit-TY1", step=kind, actor=actor, at=AT, plan=plan, **extra)


def test_idempotency_keys_are_once_per_step_unit_or_moment() -> None:
    from workflows.enforcement.credit.steps import Facts, key

    unit = Actor(name="市场监管局", role=Role.DEPARTMENT, unit="market")
    assert key(Facts.of(_credit(CreditStepKind.PUBLISHED))) == "credit-TY1:published"
    assert key(Facts.of(_credit(CreditStepKind.ACKNOWLEDGED, unit))) == (
        "credit-TY1:acknowledged:market"
    )
    assert key(Facts.of(_credit(CreditStepKind.REPAIR_REQUESTED))) == (
        f"credit-TY1:repair-requested:{AT.isoformat()}"
    )
    lifted = RepairStep(
        entry_id="credit-TY1", step=CreditStepKind.LIFTING_ACKNOWLEDGED, actor=unit, at=AT
    )
    assert key(Facts.of(lifted)) == "credit-TY1:lifting-acknowledged:market"


def test_dispatches_follow_the_row() -> None:
    """Publication goes to every member department with its measure; removal under Order 36
    to none (the lifting is chased instead); a reminder to the departments still pending."""
    from models.cases import Case
    from workflows.enforcement.credit.steps import Facts, dispatches

    case = cast(Case, SimpleNamespace(id="TY1", town="street-ximen", institution_name="某托育园"))
    measures = [
        Measure(department="market", measure="限制评优", legal_basis="第一条"),
        Measure(department="finance", measure="限制补贴", legal_basis="第二条"),
    ]
    published = dispatches(Facts.of(_credit(CreditStepKind.PUBLISHED)), case, measures, "k")
    assert [(n.recipient, "限制评优" in n.text) for n in published] == [
        ("market", True),
        ("finance", False),
    ]
    assert all(n.due_at == AT and n.title == "【联合惩戒】某托育园 TY1" for n in published)
    removed = _credit(CreditStepKind.REMOVED, reason="公示期满")
    assert len(dispatches(Facts.of(removed), case, measures, "k")) == 2
    removed.order36 = True
    assert dispatches(Facts.of(removed), case, measures, "k") == []
    reminded = _credit(CreditStepKind.REMINDED, pending=["finance"])
    assert [n.recipient for n in dispatches(Facts.of(reminded), case, measures, "k")] == ["finance"]
