"""The case workflow's deadline ladder, as a mixin of `CaseWorkflow`: takes each rung that
`ladder.due` names (reminder, escalation to the city, 通报约谈, the reminders after it), then
the supervision orders' deadlines, and tells the run loop when to look again.
Deterministic like the workflow itself; the rules are in `ladder`.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.actors import SYSTEM
    from models.cases import Level, UnitRecordKind
    from models.deadlines import RoundDeadlines
    from models.notifications import NotificationKind
    from models.workflow_io import DeadlineAfter, NotificationSpec, UnitRecordSpec
    from workflows.cases import ladder
    from workflows.cases.activities import CaseActivities
    from workflows.cases.steps import LEADING_OFFICE
    from workflows.cases.supervision import SupervisionOrders
    from workflows.local import local

NOTICE_CLOCK = "notice-interview-keeps-a-clock"  # reminders after 通报约谈 until resolved


class Escalation(SupervisionOrders):
    def _next_deadline(self) -> datetime | None:
        s = self._s
        candidates = [ladder.next_deadline(s)]
        if s.supervisions:
            candidates.append(self._supervision_due())
        return min((c for c in candidates if c is not None), default=None)

    async def _fire_due_deadlines(self) -> None:
        """Take every step whose deadline has passed, oldest first (a worker may come back
        after an outage with several due at once)."""
        while True:
            match ladder.due(self._s, workflow.now()):
                case ladder.Remind() as remind:
                    await self._remind(remind)
                case ladder.Escalate() as escalate:
                    await self._escalate(escalate)
                case ladder.NoticeInterview() as notice:
                    await self._notice_interview(notice)
                case ladder.NoticeReminder():
                    await self._notice_reminder()  # only reached with NOTICE_CLOCK
                case None:
                    if not (self._s.supervisions and await self._fire_supervision()):
                        return

    async def _remind(self, rung: ladder.Remind) -> None:
        self._s.reminded = True
        await self._record(
            "case.reminded",
            SYSTEM,
            reason="超过签收时限未签收",
            details={"unit": rung.unit, "accept_by": rung.accept_by},
            notify=[NotificationSpec(kind=NotificationKind.REMINDER, recipient=rung.unit or "")],
        )

    async def _escalate(self, rung: ladder.Escalate) -> None:
        s, failing, why = self._s, rung.failing, rung.overdue.why
        if failing not in s.collaborators:
            s.collaborators.append(failing)  # the town stays on the ground
        await self._start_round(rung.to, Level.CITY, escalated=True)
        s.escalated = True
        await self._record(
            "case.escalated",
            SYSTEM,
            reason=f"{failing} {why}，升级至市级牵头部门",
            details={"from": failing, "to": s.handler, "cause": rung.overdue.code},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.ESCALATION, recipient=s.handler or "", note=why
                ),
                NotificationSpec(kind=NotificationKind.WITHDRAWN, recipient=failing, note=why),
            ],
            unit_records=[UnitRecordSpec(unit=failing, kind=UnitRecordKind.ESCALATED, reason=why)],
            new_round=True,
            round_end_reason="escalated",
        )

    async def _notice_interview(self, rung: ladder.NoticeInterview) -> None:
        """At the city: the leading group office supervises; the handler keeps the case."""
        s, failing, why = self._s, rung.failing, rung.overdue.why
        s.level = Level.LEADING_OFFICE
        s.deadlines = RoundDeadlines()
        if workflow.patched(NOTICE_CLOCK):
            s.deadlines = await self._notice_clock()
        await self._record(
            "case.notice-interview",
            SYSTEM,
            reason=f"{failing} {why}，报领导小组办公室通报约谈",
            details={"unit": failing, "cause": rung.overdue.code},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.NOTICE_INTERVIEW, recipient=LEADING_OFFICE, note=why
                ),
                NotificationSpec(
                    kind=NotificationKind.NOTICE_INTERVIEW, recipient=failing, note=why
                ),
            ],
            unit_records=[
                UnitRecordSpec(unit=failing, kind=UnitRecordKind.NOTICE_INTERVIEW, reason=why)
            ],
        )

    # -- after 通报约谈: a reminder cycle until resolved ----------------------------------------

    async def _notice_clock(self) -> RoundDeadlines:
        resolve_by = await local(
            CaseActivities.deadline_after,
            DeadlineAfter(start=workflow.now(), policy="notice_reminder_every"),
        )
        return RoundDeadlines(resolve_by=resolve_by)

    async def _notice_reminder(self) -> None:
        s = self._s
        s.deadlines = await self._notice_clock()
        note = "通报约谈后仍未办结，请领导小组办公室督促，承办单位尽快办结并反馈结果。"
        await self._record(
            "case.notice-reminder",
            SYSTEM,
            reason=note,
            details={"unit": s.handler, "next": s.deadlines.resolve_by},
            notify=[
                NotificationSpec(
                    kind=NotificationKind.SUPERVISION,
                    recipient=u,
                    note=note,
                    due_at=s.deadlines.resolve_by,
                )
                for u in dict.fromkeys([LEADING_OFFICE, s.handler or ""])
            ],
        )
