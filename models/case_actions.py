"""What units do to a case, one model per action (each is a Temporal update of the case)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.actors import Actor
from models.bounds import EventTime, Line, Text
from models.cases import FollowUpRating, Outcome
from models.people import PersonIdentity, PersonRef


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Bodies, as clients send them; the API adds the actor from the caller's credentials.


class AcceptBody(_Action):
    note: Text | None = Field(default=None, max_length=2000)


class ReturnBody(_Action):
    reason: Text = Field(min_length=2, max_length=2000, description="why it is not ours")
    to_unit: Line | None = Field(
        default=None, max_length=64, description="the town or street it belongs to, if known"
    )


class NoteBody(_Action):
    text: Text = Field(min_length=1, max_length=5000)


class AssistBody(_Action):
    unit: Line = Field(min_length=1, max_length=64)
    reason: Text = Field(min_length=2, max_length=2000)


class ResultBody(_Action):
    outcome: Outcome
    findings: Text = Field(min_length=2, max_length=5000)
    persons: list[PersonIdentity] = Field(
        default=[],
        max_length=20,
        description="perpetrators named in a substantiated abuse result; identity numbers are "
        "hashed on receipt and banned for life with their direct managers",
    )


class CloseBody(_Action):
    reason: Text = Field(min_length=2, max_length=2000)


class RedoBy(StrEnum):
    """Who handles a case again after a dissatisfied follow-up (重办)."""

    SAME_UNIT = "same-unit"  # the cause was the unit's handling: back to it, once
    LEAD = "lead"  # the city lead department (the default)


class FollowUpBody(_Action):
    """回访: the caller's verdict on the scale (`rating`) and whether the problem was solved
    (`resolved`). `satisfied` alone (the older form) is still accepted; with a rating it is
    derived from it (满意 and 基本满意 are satisfied) and must agree with it."""

    satisfied: bool | None = Field(
        default=None, description="derived from `rating` when that is given"
    )
    rating: FollowUpRating | None = Field(default=None, description="满意 / 基本满意 / 不满意")
    resolved: bool | None = Field(default=None, description="问题是否解决")
    comment: Text | None = Field(default=None, max_length=2000)
    redo_by: RedoBy | None = Field(
        default=None,
        description="dissatisfied: 'same-unit' sends it back to the unit that reported the "
        "result (once); 'lead' (default) to the city lead department",
    )

    @model_validator(mode="after")
    def _verdict(self) -> FollowUpBody:
        if self.rating is not None:
            derived = self.rating is not FollowUpRating.DISSATISFIED
            if self.satisfied is not None and self.satisfied != derived:
                raise ValueError("回访评价与“是否满意”不一致")
            self.satisfied = derived
        if self.satisfied is None:
            raise ValueError("请选择回访评价（满意、基本满意或不满意）")
        return self


class ReviewReturnBody(_Action):
    """退单审核: approve (改派 to `to_unit`, or the unit the return named, or the city lead)
    or reject (the case stays with the same unit)."""

    approve: bool
    reason: Text = Field(min_length=2, max_length=2000)
    to_unit: Line | None = Field(default=None, max_length=64, description="改派 to this unit")


class ExtensionBody(_Action):
    """延期申请: more working days to resolve, with a reason."""

    working_days: int = Field(ge=1, le=60)
    reason: Text = Field(min_length=2, max_length=2000)


class ExtensionDecisionBody(_Action):
    approve: bool
    reason: Text = Field(min_length=2, max_length=2000)


class SuperviseBody(_Action):
    """督办: the leading group office's order to the handling unit."""

    comments: Text = Field(min_length=2, max_length=2000)
    due_by: EventTime = Field(description="when the unit must have acted")


class HandDownBody(_Action):
    unit: Line = Field(min_length=1, max_length=64, description="town, street or zone")
    reason: Text = Field(min_length=2, max_length=2000)


class TakeOverBody(_Action):
    reason: Text = Field(min_length=2, max_length=2000)


# Update inputs: the body plus who did it.


class AcceptCase(AcceptBody):
    actor: Actor


class ReturnCase(ReturnBody):
    actor: Actor


class AddNote(NoteBody):
    actor: Actor


class RequestAssistance(AssistBody):
    actor: Actor


class ReportResult(_Action):
    outcome: Outcome
    findings: Text = Field(min_length=2, max_length=5000)
    persons: list[PersonRef] = []
    actor: Actor


class CloseCase(CloseBody):
    actor: Actor


class RecordFollowUp(FollowUpBody):
    actor: Actor


class HandDown(HandDownBody):
    actor: Actor


class TakeOver(TakeOverBody):
    actor: Actor


class ReviewReturn(ReviewReturnBody):
    actor: Actor


class RequestExtension(ExtensionBody):
    actor: Actor
    cap_working_days: int = 10


class DecideExtension(ExtensionDecisionBody):
    actor: Actor


class Supervise(SuperviseBody):
    actor: Actor


class Refusal(BaseModel):
    """Why an action was refused; `message` is shown to the user as is."""

    code: str
    message: str
    status: int = 409
