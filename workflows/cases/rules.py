"""Who may do what to a case, and when. Pure functions: the workflow's validators use them.

Messages are shown to the civil servant who tried the action, so they are in Chinese.
"""

from __future__ import annotations

from datetime import datetime

from models.actors import Actor, Role
from models.case_actions import Refusal
from models.cases import CaseStatus, Level, Outcome
from models.complaints import Category
from models.workflow_io import CaseState

STATUS_NAMES = {
    None: "未立案",
    CaseStatus.DISPATCHED: "待签收",
    CaseStatus.ACCEPTED: "办理中",
    CaseStatus.RESOLVED: "已反馈结果",
    CaseStatus.CLOSED: "已办结",
    CaseStatus.MERGED: "已并案",
}
OPEN = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)
SUPERVISORS = (Role.LEADING_OFFICE, Role.ADMIN)


def _state(state: CaseState, action: str, allowed: tuple[CaseStatus, ...]) -> Refusal | None:
    if state.status in allowed:
        return None
    return Refusal(
        code="not_allowed_in_state",
        message=f"案件当前状态为“{STATUS_NAMES[state.status]}”，不能{action}。",
    )


def _handler(state: CaseState, actor: Actor, action: str) -> Refusal | None:
    if actor.unit is not None and actor.unit == state.handler:
        return None
    return Refusal(
        code="not_handler",
        message=f"只有当前承办单位可以{action}；本案当前承办单位为 {state.handler}。",
        status=403,
    )


def _lead(state: CaseState, actor: Actor, action: str) -> Refusal | None:
    if actor.role in SUPERVISORS or (actor.role is Role.DEPARTMENT and actor.unit in state.lead):
        return None
    return Refusal(
        code="not_lead",
        message=f"只有本案的市级牵头部门或领导小组办公室可以{action}。",
        status=403,
    )


def _first(*checks: Refusal | None) -> Refusal | None:
    return next((c for c in checks if c is not None), None)


def accept(state: CaseState, actor: Actor) -> Refusal | None:
    return _first(_state(state, "签收", (CaseStatus.DISPATCHED,)), _handler(state, actor, "签收"))


def return_case(
    state: CaseState, actor: Actor, now: datetime, to_unit: str | None
) -> Refusal | None:
    refusal = _first(
        _state(state, "退回", (CaseStatus.DISPATCHED,)), _handler(state, actor, "退回")
    )
    if refusal:
        return refusal
    if state.level is not Level.TOWN:
        return Refusal(
            code="not_returnable",
            message="市级承办的案件不能退回；如需交由镇（街道）办理，请使用“交办”。",
        )
    return_by = state.deadlines.return_by
    if return_by is not None and now > return_by:
        return Refusal(code="return_window_passed", message="已超过退回时限，请签收后办理。")
    if to_unit is not None and (to_unit == state.handler or to_unit in state.returned_by):
        return Refusal(
            code="invalid_target",
            message="不能退回给本单位或已退回过本案的单位；不确定归属时请不填写，由市级牵头部门处理。",
            status=422,
        )
    return None


def note(state: CaseState, actor: Actor) -> Refusal | None:
    refusal = _state(state, "添加备注", (*OPEN, CaseStatus.RESOLVED))
    if refusal:
        return refusal
    involved = {state.handler, *state.collaborators, *state.assisting, *state.lead}
    if actor.role in (Role.OPERATOR, *SUPERVISORS) or actor.unit in involved:
        return None
    return Refusal(code="not_involved", message="你单位未参与本案，不能添加备注。", status=403)


def assist(state: CaseState, actor: Actor, unit: str) -> Refusal | None:
    refusal = _first(
        _state(state, "请求协办", (CaseStatus.ACCEPTED,)), _handler(state, actor, "请求协办")
    )
    if refusal:
        return refusal
    if unit == state.handler or unit in state.assisting:
        return Refusal(
            code="invalid_target", message="该单位已在办理本案，无需再请求协办。", status=422
        )
    return None


def report_result(state: CaseState, actor: Actor) -> Refusal | None:
    return _first(
        _state(state, "反馈办理结果", (CaseStatus.ACCEPTED,)),
        _handler(state, actor, "反馈办理结果"),
    )


def persons_named(state: CaseState, outcome: Outcome, named: int) -> Refusal | None:
    """Persons named in a result are banned for life: only a substantiated child-abuse result
    names them. Anywhere else they were dropped without a word; now the unit is told. Checked
    in the validator only (not re-checked in the handler), so recorded histories replay."""
    if not named:
        return None
    if state.category is Category.CHILD_ABUSE and outcome in (
        Outcome.SUBSTANTIATED,
        Outcome.PARTLY_SUBSTANTIATED,
    ):
        return None
    return Refusal(
        code="persons_not_applicable",
        message="只有虐童类案件核查属实（或部分属实）时才能列明当事人（将被终身禁业）；"
        "请删除当事人后重新提交。",
        status=422,
    )


def close(state: CaseState, actor: Actor) -> Refusal | None:
    refusal = _state(state, "办结", (CaseStatus.RESOLVED,))
    if refusal:
        return refusal
    if actor.role is Role.OPERATOR or _lead(state, actor, "办结") is None:
        return None
    return Refusal(
        code="not_allowed",
        message="只有热线话务员、市级牵头部门或领导小组办公室可以办结案件。",
        status=403,
    )


def follow_up(state: CaseState, actor: Actor) -> Refusal | None:
    refusal = _state(state, "回访", (CaseStatus.RESOLVED,))
    if refusal:
        return refusal
    if actor.role not in (Role.OPERATOR, Role.ADMIN):
        return Refusal(code="not_operator", message="回访由热线话务员记录。", status=403)
    if state.anonymous:
        return Refusal(code="anonymous", message="匿名投诉无法回访，请直接办结并说明原因。")
    return None


def hand_down(state: CaseState, actor: Actor, unit: str) -> Refusal | None:
    refusal = _first(_state(state, "交办", OPEN), _lead(state, actor, "交办"))
    if refusal:
        return refusal
    if unit == state.handler:
        return Refusal(code="invalid_target", message="该单位已是本案承办单位。", status=422)
    return None


def take_over(state: CaseState, actor: Actor) -> Refusal | None:
    refusal = _first(_state(state, "提级办理", OPEN), _lead(state, actor, "提级办理"))
    if refusal:
        return refusal
    if actor.unit is None or actor.unit == state.handler:
        return Refusal(code="already_handler", message="你单位已是本案承办单位。")
    return None
