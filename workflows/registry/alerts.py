"""Alerts when a banned person turns up: to the Health Commission, Public Security and the
institution's town, at once."""

from __future__ import annotations

from datetime import datetime

from infra import reference
from models.notifications import Notification, NotificationKind
from models.timeutil import SHANGHAI

ALERTED = ("health", "psb")
WHY = {
    "hiring": "拟入职",
    "api": "入职核查",
    "yearly": "年度复核发现在职",
    "new-ban": "新禁入决定作出后发现在职",
    "camera": "人脸识别发现出现在",
}


# What was done already: only a hiring check refuses anything; someone found employed (or
# seen on camera) is for the units to deal with.
ACTION = {
    "hiring": "已拒绝其入职登记；请立即核查处置，依法依规处理。",
    "api": "该人员为终身禁入人员，不得录用；请立即核查处置，依法依规处理。",
    "camera": "请立即到场核查，确认身份后依法依规处置。",
}
ACTION_EMPLOYED = "该人员目前在职，请立即核查并责令机构解除聘用，依法依规处理。"


def ban_alerts(
    *,
    key: str,
    person_masked: str,
    name: str,
    institution_id: str | None,
    institution_name: str | None,
    town: str | None,
    reason: str,
    at: datetime,
    case_id: str | None = None,
) -> list[Notification]:
    place = institution_name or institution_id or "未登记机构"
    when = at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")
    recipients = list(dict.fromkeys([*ALERTED, *([town] if town else [])]))
    units = reference.units()
    return [
        Notification(
            event_id=f"{key}:ban-alert:{recipient}",
            occurred_at=at,
            kind=NotificationKind.BAN_ALERT,
            recipient=recipient,
            case_id=case_id,
            priority="critical",
            title=f"【禁入人员预警】{name}（{person_masked}）{WHY.get(reason, reason)}{place}",
            text=(
                f"{units[recipient].name if recipient in units else recipient}：\n"
                f"终身禁入人员 {name}（身份证号 {person_masked}）于 {when}（北京时间）"
                f"{WHY.get(reason, reason)}{place}。\n"
                f"{ACTION.get(reason, ACTION_EMPLOYED)}"
            ),
        )
        for recipient in recipients
    ]
