"""The 12345 work-order actions on a case, shaped like the other case actions: a Temporal
update of the case workflow, refused with 403/409/422 and the reason in Chinese.

`POST /api/v1/cases/{id}/review-return`       退单审核 (hotline centre; a second return: the
                                              leading office)
`POST /api/v1/cases/{id}/extension`           延期申请 (the handling unit)
`POST /api/v1/cases/{id}/extension-decision`  延期审批 (the lead department, the leading office)
`POST /api/v1/cases/{id}/supervise`           督办 (the leading office)
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.case_actions import act
from api.deps import TemporalDep
from api.errors import ApiError
from api.identity import ActingDep
from api.routes_actions import jurisdiction
from models.case_actions import (
    DecideExtension,
    ExtensionBody,
    ExtensionDecisionBody,
    RequestExtension,
    ReviewReturn,
    ReviewReturnBody,
    Supervise,
    SuperviseBody,
)
from models.deadlines import DeadlinePolicy
from models.workflow_io import CaseState

router = APIRouter(prefix="/api/v1/cases/{case_id}", tags=["case actions"])


def extension_cap(request: Request) -> int:
    policy: DeadlinePolicy = request.app.state.policy
    cap = policy.extension_cap.working_days
    if cap is None:  # the policy file gave clock time: counted as whole days
        assert policy.extension_cap.clock is not None
        cap = max(policy.extension_cap.clock.days, 1)
    return cap


@router.post("/review-return", response_model=CaseState, summary="退单审核（同意改派或不同意）")
async def review_return(
    case_id: str, body: ReviewReturnBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    jurisdiction(body.to_unit)
    return await act(
        temporal, case_id, "review_return", ReviewReturn(**body.model_dump(), actor=actor)
    )


@router.post("/extension", response_model=CaseState, summary="延期申请")
async def request_extension(
    case_id: str,
    body: ExtensionBody,
    actor: ActingDep,
    temporal: TemporalDep,
    request: Request,
) -> CaseState:
    cap = extension_cap(request)
    if body.working_days > cap:
        raise ApiError(
            422,
            "extension_too_long",
            f"延期不得超过 {cap} 个工作日。",
            {"max_working_days": cap},
        )
    update = RequestExtension(**body.model_dump(), actor=actor, cap_working_days=cap)
    return await act(temporal, case_id, "request_extension", update)


@router.post("/extension-decision", response_model=CaseState, summary="延期审批")
async def decide_extension(
    case_id: str, body: ExtensionDecisionBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(
        temporal, case_id, "decide_extension", DecideExtension(**body.model_dump(), actor=actor)
    )


@router.post("/supervise", response_model=CaseState, summary="督办")
async def supervise(
    case_id: str, body: SuperviseBody, actor: ActingDep, temporal: TemporalDep
) -> CaseState:
    return await act(temporal, case_id, "supervise", Supervise(**body.model_dump(), actor=actor))
