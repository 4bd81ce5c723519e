"""Relaying actions to workflows as Temporal updates, and reading their state by query."""

from __future__ import annotations

from typing import TypeVar

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from infra import reference
from models.actors import Actor
from models.cases import workflow_id_for
from models.workflow_io import CaseState

T = TypeVar("T")


def gone(workflow_id: str) -> ApiError:
    return ApiError(
        409,
        "not_open",
        "该事项已办结、已并案或尚未开始，不能再操作。",
        {"id": workflow_id},
    )


def unit_names(text: str) -> str:
    """A refusal names units by their codes (workflows know no reference data): the person
    reading it gets the Chinese names."""
    units = reference.units()
    for code in sorted(units, key=len, reverse=True):
        if code in text:
            text = text.replace(code, units[code].name)
    return text


async def update(client: Client, workflow_id: str, name: str, arg: object, result: type[T]) -> T:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(name, arg, result_type=result)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "ActionRefused":
            code, status = [*cause.details, "refused", 409][:2]
            message = unit_names(cause.message)
            raise ApiError(int(status), str(code), message, {"id": workflow_id}) from None
        raise
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise gone(workflow_id) from None
        raise


async def query(client: Client, workflow_id: str, result: type[T]) -> T | None:
    try:
        return await client.get_workflow_handle(workflow_id).query("state", result_type=result)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def act(client: Client, case_id: str, name: str, arg: object) -> CaseState:
    return await update(client, workflow_id_for(case_id), name, arg, CaseState)


async def query_state(client: Client, case_id: str) -> CaseState | None:
    return await query(client, workflow_id_for(case_id), CaseState)


async def allowed_actions(client: Client, case_id: str, actor: Actor) -> list[str]:
    """The actions this actor may take now, by the workflow's `allowed_actions` query; none
    when the workflow is gone or does not answer (no buttons rather than an error)."""
    handle = client.get_workflow_handle(workflow_id_for(case_id))
    try:
        return await handle.query("allowed_actions", actor, result_type=list[str])
    except (RPCError, WorkflowQueryFailedError):
        return []
