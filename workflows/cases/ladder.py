"""The deadline ladder as pure rules: given a case's state and the time, which rung is due.

The handling unit must accept by `accept_by`; missing it sends a reminder (催办); missing
`accept_final_by` after the reminder, or `resolve_by` at any time, takes the case up a level:
a town's case goes to the city lead department (a record against the town); a city's goes to
the leading group office for a public notice and interview (通报约谈) of the failing unit;
after that, a reminder every cycle until the case is resolved.

The deadlines themselves (working days, the holiday calendar) are planned by an activity and
recorded in the state (infra/deadlines.py): here a deadline is reached at its exact instant.
Supervision orders' deadlines (督办) are the supervision mixin's and come after these.
Deterministic, no I/O: the workflow takes the rung `due` names, one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.cases import CaseStatus, Level
from models.workflow_io import CaseState
from workflows.cases.rules import OPEN


@dataclass(frozen=True)
class Overdue:
    why: str  # the reason as the units read it
    code: str  # the cause as the audit trail records it


ACCEPTANCE = Overdue("逾期未签收", "acceptance-overdue")
RESOLUTION = Overdue("逾期未办结", "resolution-overdue")


@dataclass(frozen=True)
class Remind:
    """催办: the unit has not accepted by `accept_by`."""

    unit: str | None
    accept_by: datetime


@dataclass(frozen=True)
class Escalate:
    """Town → the city lead department; the town stays on the case as a collaborator."""

    overdue: Overdue
    failing: str
    to: str


@dataclass(frozen=True)
class NoticeInterview:
    """City → the leading group office (通报约谈); the handler keeps the case."""

    overdue: Overdue
    failing: str


@dataclass(frozen=True)
class NoticeReminder:
    """Already at the leading office and still not resolved: the next reminder of its cycle."""

    unit: str


Rung = Remind | Escalate | NoticeInterview | NoticeReminder


def passed(deadline: datetime | None, now: datetime) -> bool:
    """A deadline is missed at its exact instant: `now == deadline` fires."""
    return deadline is not None and now >= deadline


def waiting_for_acceptance(state: CaseState) -> bool:
    """Dispatched and not accepted; while a return is being reviewed the unit is not asked."""
    return state.status is CaseStatus.DISPATCHED and state.return_pending is None


def due(state: CaseState, now: datetime) -> Rung | None:
    """The rung due now, or None; the oldest first (a reminder before an escalation)."""
    d = state.deadlines
    waiting = waiting_for_acceptance(state)
    if waiting and not state.reminded and passed(d.accept_by, now):
        assert d.accept_by is not None
        return Remind(unit=state.handler, accept_by=d.accept_by)
    if waiting and state.reminded and passed(d.accept_final_by, now):
        overdue = ACCEPTANCE
    elif state.status in OPEN and passed(d.resolve_by, now):
        overdue = RESOLUTION
    else:
        return None
    failing = state.handler or ""
    if state.level is Level.TOWN:
        return Escalate(overdue=overdue, failing=failing, to=state.lead[0])
    if state.level is Level.LEADING_OFFICE:
        return NoticeReminder(unit=failing)
    return NoticeInterview(overdue=overdue, failing=failing)


def next_deadline(state: CaseState) -> datetime | None:
    """When `due` may next name a rung (the workflow's timer, the search attribute)."""
    d = state.deadlines
    candidates = []
    if waiting_for_acceptance(state):
        candidates.append(d.accept_final_by if state.reminded else d.accept_by)
    if state.status in OPEN:
        candidates.append(d.resolve_by)
    return min((c for c in candidates if c is not None), default=None)
