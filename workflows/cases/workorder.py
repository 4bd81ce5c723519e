"""The 12345 work-order rules (国办发〔2020〕53号; Guizhou's hotline rules): return review
(退单审核), extensions (延期申请), supervision orders (督办), redo by the same unit (重办), and
which actions a caller may take now. Pure functions, like `rules`: the validators use them.
"""

from __future__ import annotations

from datetime import datetime

from models.actors import Actor, Role
from models.case_actions import RedoBy, Refusal
from models.cases import CaseStatus
from models.deadlines import RoundDeadlines
from models.workflow_io import CaseState
from workflows.cases import rules
from workflows.cases.rules import OPEN, SUPERVISORS

# The hotline centre reviews returns: its operators (and administrators).
HOTLINE = (Role.OPERATOR, Role.ADMIN)
HOTLINE_UNIT = "hotline"
# A case returned this many times before is decided by the leading group office (审定).
RETURNS_BEFORE_OFFICE = 1


def reviewer_for(state: CaseState) -> str:
    return "leading-office" if state.returns > RETURNS_BEFORE_OFFICE else "operator"


def _no_pending(state: CaseState, action: str) -> Refusal | None:
    if state.return_pending is not None:
        return Refusal(
            code="return_pending", message=f"本案退单正在审核中，审核完成前不能{action}。"
        )
    return None


def return_case(
    state: CaseState, actor: Actor, now: datetime, to_unit: str | None
) -> Refusal | None:
    return rules._first(
        _no_pending(state, "再次退单"), rules.return_case(state, actor, now, to_unit)
    )


def accept(state: CaseState, actor: Actor) -> Refusal | None:
    return rules._first(_no_pending(state, "签收"), rules.accept(state, actor))


def review_return(
    state: CaseState, actor: Actor, approve: bool, to_unit: str | None
) -> Refusal | None:
    pending = state.return_pending
    if pending is None:
        return Refusal(code="no_return_pending", message="本案没有待审核的退单申请。")
    if pending.reviewer == "leading-office":
        if actor.role not in SUPERVISORS:
            return Refusal(
                code="not_reviewer",
                message="本案已第二次退单，须由领导小组办公室审定。",
                status=403,
            )
    elif actor.role not in (*HOTLINE, *SUPERVISORS):
        return Refusal(code="not_reviewer", message="退单由12345热线中心审核。", status=403)
    target = to_unit or pending.to_unit
    if approve and target is not None and (target == pending.unit or target in state.returned_by):
        return Refusal(
            code="invalid_target",
            message="改派单位不能是退单单位或已退回过本案的单位。",
            status=422,
        )
    return None


def request_extension(
    state: CaseState, actor: Actor, working_days: int, cap: int
) -> Refusal | None:
    refusal = rules._first(
        rules._state(state, "申请延期", (CaseStatus.ACCEPTED,)),
        rules._handler(state, actor, "申请延期"),
    )
    if refusal:
        return refusal
    if state.extension_pending is not None:
        return Refusal(code="extension_pending", message="本案已有延期申请正在审批。")
    if state.extensions >= 1:
        return Refusal(code="extension_used", message="每件案件只能申请延期一次，本案已延期。")
    if state.deadlines.resolve_by is None:
        return Refusal(code="no_deadline", message="本案当前没有办结时限，无需延期。")
    if working_days > cap:
        return Refusal(
            code="extension_too_long",
            message=f"延期不得超过 {cap} 个工作日。",
            status=422,
        )
    return None


def decide_extension(state: CaseState, actor: Actor) -> Refusal | None:
    pending = state.extension_pending
    if pending is None:
        return Refusal(code="no_extension_pending", message="本案没有待审批的延期申请。")
    refusal = rules._lead(state, actor, "审批延期申请")
    if refusal:
        return refusal
    if actor.unit == pending.unit and actor.role not in SUPERVISORS:
        # A lead department handling the case itself does not approve its own request.
        return Refusal(
            code="own_request",
            message="承办单位不能审批本单位的延期申请，请由领导小组办公室审批。",
            status=403,
        )
    return None


def supervise(state: CaseState, actor: Actor, due_by: datetime, now: datetime) -> Refusal | None:
    refusal = rules._state(state, "督办", OPEN)
    if refusal:
        return refusal
    if actor.role not in SUPERVISORS:
        return Refusal(code="not_office", message="督办由领导小组办公室下达。", status=403)
    if due_by <= now:
        return Refusal(code="due_in_past", message="督办期限须晚于当前时间。", status=422)
    return None


def follow_up(state: CaseState, actor: Actor, redo_by: RedoBy | None) -> Refusal | None:
    refusal = rules.follow_up(state, actor)
    if refusal or redo_by is not RedoBy.SAME_UNIT:
        return refusal
    if state.result_unit is None:
        return Refusal(code="no_result_unit", message="本案没有反馈结果的承办单位，不能重办。")
    if state.redone >= 1 or state.reopened >= 1:
        return Refusal(code="redo_used", message="本案已重新办理过一次，不能再交原承办单位重办。")
    return None


def keep_clock(new: RoundDeadlines, old: RoundDeadlines) -> RoundDeadlines:
    """A re-dispatch after a return: the new unit gets its acceptance time, but the case must
    still be resolved by the time counted from the first dispatch (bouncing never resets it)."""
    resolve_by = old.resolve_by or new.resolve_by
    return new.model_copy(
        update={
            "resolve_by": resolve_by,
            "accept_by": _earliest(new.accept_by, resolve_by),
            "accept_final_by": _earliest(new.accept_final_by, resolve_by),
        }
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def allowed_actions(state: CaseState, actor: Actor, now: datetime) -> list[str]:
    """The actions (API path names under /api/v1/cases/{id}/) this actor may take now: the same
    rules the workflow's validators apply, so a button shown is an action accepted."""
    if actor.role in (Role.AUDITOR, Role.SYSTEM) or state.status in (
        CaseStatus.CLOSED,
        CaseStatus.MERGED,
        None,
    ):
        return []
    checks: dict[str, Refusal | None] = {
        "accept": accept(state, actor),
        "return": return_case(state, actor, now, None),
        "review-return": review_return(state, actor, True, None),
        "notes": rules.note(state, actor),
        "assist": rules.assist(state, actor, ""),
        "result": rules._first(_no_pending(state, "反馈结果"), rules.report_result(state, actor)),
        "extension": request_extension(state, actor, 1, 1),
        "extension-decision": decide_extension(state, actor),
        "supervise": supervise(state, actor, datetime.max.replace(tzinfo=now.tzinfo), now),
        "follow-up": rules.follow_up(state, actor),
        "close": rules.close(state, actor),
        "hand-down": rules.hand_down(state, actor, ""),
        "take-over": rules.take_over(state, actor),
    }
    return [name for name, refusal in checks.items() if refusal is None]
