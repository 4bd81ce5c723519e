"""Inputs and results of the case workflow and its activities (plain models, never tables)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from models.cases import CaseStatus, Priority
from models.complaints import ComplaintReceived


class CaseWorkflowInput(BaseModel):
    case_id: str


class Routing(BaseModel):
    """Who handles a case: the town acts first; critical cases go to the leads at once too."""

    priority: Priority
    town: str
    lead: list[str]

    @property
    def dispatch_to(self) -> list[str]:
        if self.priority is Priority.CRITICAL:
            return list(dict.fromkeys([self.town, *self.lead]))
        return [self.town]


class OpenCaseInput(BaseModel):
    case_id: str
    workflow_id: str
    complaint: ComplaintReceived


class CaseState(BaseModel):
    """What the case workflow answers to its `state` query."""

    case_id: str
    status: CaseStatus | None = None
    routing: Routing | None = None
    dispatched_to: list[str] = []
    event_ids: list[str] = []


class PublishDispatchesInput(BaseModel):
    """One dispatch per recipient; `round` tells repeated dispatches of one case apart."""

    case_id: str
    recipients: list[str]
    round: int = 1
    priority: Priority
    complaint: ComplaintReceived
    occurred_at: AwareDatetime

    def event_id(self, recipient: str) -> str:
        return f"{self.case_id}:dispatch:{recipient}:{self.round}"
