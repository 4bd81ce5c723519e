"""Units acting on a case: each action is a Temporal update the workflow validates.

A refused action answers 403 (not this unit's to do) or 409 (not in this state) with the
reason in Chinese; the case is unchanged.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.case_actions import act
from api.deps import HasherDep, TemporalDep
from api.errors import ApiError
from api.identity import ActingDep
from infra import reference
from models.case_actions import (
    AcceptBody,
    AcceptCase,
    AddNote,
    AssistBody,
    CloseBody,
    CloseCase,
    FollowUpBody,
    HandDown,
    HandDownBody,
    NoteBody,
    RecordFollowUp,
    ReportResult,
    RequestAssistance,
    ResultBody,
    ReturnBody,
    ReturnCase,
    TakeOver,
    TakeOverBody,
)
from models.workflow_io import CaseState

router = APIRouter(prefix="/api/v1/cases/{case_id}", tags=["case actions"])


def jurisdiction(code: str | None) -> None:
    if code is not None and not reference.is_jurisdiction(code):
        raise ApiError(
            422, "not_a_jurisdiction", "请选择一个镇、街道或开发区作为承办单位。", {"unit": code}
        )


def known_unit(code: str) -> None:
    if code not in reference.units():
        raise ApiError(422, "unknown_unit", "该单位不存在。", {"unit": code})


@router.post("/accept", response_model=CaseState, summary="签收")
async def accept(
    case_id: str, body: AcceptBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(temporal, case_id, "accept", AcceptCase(**body.model_dump(), actor=actor))


@router.post(
    "/return",
    response_model=CaseState,
    summary="退单（非本辖区或非本单位职责；待12345热线中心审核）",
)
async def return_case(
    case_id: str, body: ReturnBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    jurisdiction(body.to_unit)
    return await act(temporal, case_id, "return_case", ReturnCase(**body.model_dump(), actor=actor))


@router.post("/notes", response_model=CaseState, summary="添加备注")
async def note(case_id: str, body: NoteBody, actor: ActingDep, temporal: TemporalDep) -> CaseState:
    return await act(temporal, case_id, "note", AddNote(**body.model_dump(), actor=actor))


@router.post("/assist", response_model=CaseState, summary="请求协办")
async def assist(
    case_id: str, body: AssistBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    known_unit(body.unit)
    return await act(
        temporal, case_id, "assist", RequestAssistance(**body.model_dump(), actor=actor)
    )


@router.post("/result", response_model=CaseState, summary="反馈办理结果")
async def report_result(
    case_id: str, body: ResultBody, actor: ActingDep, temporal: TemporalDep, hasher: HasherDep
) -> CaseState:
    # Identity numbers go no further than this: hashed here, before the workflow sees them.
    report = ReportResult(
        outcome=body.outcome,
        findings=body.findings,
        persons=[hasher.ref(p) for p in body.persons],
        actor=actor,
    )
    return await act(temporal, case_id, "report_result", report)


@router.post("/follow-up", response_model=CaseState, summary="回访")
async def follow_up(
    case_id: str, body: FollowUpBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(
        temporal, case_id, "follow_up", RecordFollowUp(**body.model_dump(), actor=actor)
    )


@router.post("/close", response_model=CaseState, summary="办结")
async def close(
    case_id: str, body: CloseBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(temporal, case_id, "close", CloseCase(**body.model_dump(), actor=actor))


@router.post("/hand-down", response_model=CaseState, summary="交办至镇（街道）")
async def hand_down(
    case_id: str, body: HandDownBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    jurisdiction(body.unit)
    return await act(temporal, case_id, "hand_down", HandDown(**body.model_dump(), actor=actor))


@router.post("/take-over", response_model=CaseState, summary="提级办理")
async def take_over(
    case_id: str, body: TakeOverBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(temporal, case_id, "take_over", TakeOver(**body.model_dump(), actor=actor))
