"""The Chinese text of every notification a case sends: dispatches, reminders, escalations."""

from __future__ import annotations

from datetime import datetime

from infra import reference
from models.cases import Case, Priority
from models.notifications import Notification, NotificationKind
from models.timeutil import SHANGHAI
from models.workflow_io import NotificationSpec, RecordStep

PRIORITY_NAMES = {
    Priority.CRITICAL: "紧急",
    Priority.HIGH: "高",
    Priority.ORDINARY: "普通",
    Priority.CONSULTATION: "咨询",
}
KIND_TITLES = {
    NotificationKind.DISPATCH: "派单",
    NotificationKind.REMINDER: "催办",
    NotificationKind.ESCALATION: "升级督办",
    NotificationKind.NOTICE_INTERVIEW: "通报约谈",
    NotificationKind.ASSISTANCE: "协办",
    NotificationKind.WITHDRAWN: "案件调整",
    NotificationKind.SUPERVISION: "督办",
    NotificationKind.RETURN_REVIEW: "退单审核",
    NotificationKind.EXTENSION: "延期申请",
    NotificationKind.LINKED: "关联案件",
}


def beijing(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def unit_name(code: str | None) -> str:
    unit = reference.units().get(code or "")
    return unit.name if unit else (code or "—")


def render(step: RecordStep, spec: NotificationSpec, case: Case) -> Notification:
    s = step.state
    info = reference.catalogue()[case.category]
    priority = PRIORITY_NAMES[case.priority]
    institution = case.institution_name or "未具名机构"
    summary = (
        f"类别：{info.name}；优先级：{priority}；"
        f"所在镇（街道）：{unit_name(case.town)}；机构：{institution}。\n"
        f"受理时间：{beijing(case.received_at)}（北京时间）。\n"
        f"反映内容：{case.description}"
    )
    note = f"\n说明：{spec.note}" if spec.note else ""
    due_at: datetime | None = None
    kind = spec.kind
    if kind is NotificationKind.DISPATCH:
        due_at = s.deadlines.accept_by
        body = (
            f"现将案件 {s.case_id} 派送你单位办理。\n{summary}{note}\n"
            f"请于 {beijing(due_at)} 前签收，{beijing(s.deadlines.resolve_by)} 前办结并反馈结果。"
        )
    elif kind is NotificationKind.REMINDER:
        due_at = s.deadlines.accept_final_by
        body = (
            f"案件 {s.case_id} 已超过签收时限（{beijing(s.deadlines.accept_by)}），"
            "你单位尚未签收。\n"
            f"{summary}\n请于 {beijing(due_at)} 前签收，逾期将升级至上级督办。"
        )
    elif kind is NotificationKind.ESCALATION:
        due_at = s.deadlines.accept_by
        body = (
            f"案件 {s.case_id} 因镇（街道）{spec.note or '未按时办理'}，现升级由你单位牵头办理。\n"
            f"{summary}\n请于 {beijing(due_at)} 前签收，{beijing(s.deadlines.resolve_by)} 前办结；"
            "逾期将报领导小组办公室通报约谈。"
        )
    elif kind is NotificationKind.NOTICE_INTERVIEW:
        body = (
            f"案件 {s.case_id} 由 {unit_name(s.handler)} 承办，{spec.note or '逾期未办'}，"
            "已超过升级督办时限。\n"
            f"{summary}\n依规对承办单位予以通报约谈，请督促尽快办结。"
        )
    elif kind is NotificationKind.SUPERVISION:
        due_at = spec.due_at
        body = (
            f"领导小组办公室对案件 {s.case_id}（承办单位：{unit_name(s.handler)}）督办。\n"
            f"督办意见：{spec.note or '请加快办理'}\n{summary}\n"
            f"请于 {beijing(due_at)} 前办结并反馈结果。"
        )
    elif kind in (
        NotificationKind.RETURN_REVIEW,
        NotificationKind.EXTENSION,
        NotificationKind.LINKED,
    ):
        due_at = spec.due_at
        body = f"案件 {s.case_id}：{spec.note or ''}\n{summary}"
        if due_at is not None:
            body += f"\n办结时限：{beijing(due_at)}（北京时间）。"
    elif kind is NotificationKind.ASSISTANCE:
        body = f"{unit_name(s.handler)} 请你单位协助办理案件 {s.case_id}。\n{summary}{note}"
    else:
        body = (
            f"案件 {s.case_id} 现由 {unit_name(s.handler)} 承办，你单位不再作为承办单位；"
            f"如需配合，请与承办单位联系。{note}"
        )
    return Notification(
        event_id=step.event_id(spec),
        occurred_at=step.occurred_at,
        kind=kind,
        recipient=spec.recipient,
        case_id=s.case_id,
        priority=case.priority,
        due_at=due_at,
        title=f"【{KIND_TITLES[kind]}】{info.name}（{priority}）{s.case_id}",
        text=f"{unit_name(spec.recipient)}：\n{body}",
    )
