"""Relaying a unit's action to the case workflow as a Temporal update."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from models.cases import workflow_id_for
from models.workflow_io import CaseState


def case_gone(case_id: str) -> ApiError:
    return ApiError(
        409, "case_not_open", "该案件已办结、已并案或尚未立案，不能再操作。", {"case_id": case_id}
    )


async def act(client: Client, case_id: str, update: str, arg: object) -> CaseState:
    handle = client.get_workflow_handle(workflow_id_for(case_id))
    try:
        return await handle.execute_update(update, arg, result_type=CaseState)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "ActionRefused":
            code, status = [*cause.details, "refused", 409][:2]
            raise ApiError(int(status), str(code), cause.message, {"case_id": case_id}) from None
        raise
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise case_gone(case_id) from None
        raise


async def query_state(client: Client, case_id: str) -> CaseState | None:
    try:
        return await client.get_workflow_handle(workflow_id_for(case_id)).query(
            "state", result_type=CaseState
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
