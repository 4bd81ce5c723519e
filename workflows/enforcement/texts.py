"""Chinese texts of enforcement: sanction names, and the dispatches and integrity-file lines of
bans, decisions, re-inspections and joint punishment.

The dispatches and summaries of credit steps are `str.format` templates, filled by
`workflows/enforcement/credit/steps.py` with: `name` (the institution), `case`, `reason`,
`measure`, `legal_basis` (a department's measure), `pending` (the departments yet to answer),
`unit` (the acting unit), and the moments `objection_by`, `publicity_until`, `acknowledge_by`,
`acknowledge_final_by`, `due` (as `beijing` writes them).
"""

from __future__ import annotations

from datetime import datetime

from models.enforcement import SanctionKind
from models.timeutil import SHANGHAI

SANCTION_NAMES = {
    SanctionKind.RECTIFICATION: "责令限期整改",
    SanctionKind.WARNING: "警告",
    SanctionKind.FINE: "罚款",
    SanctionKind.SUSPENSION: "责令停业整顿",
    SanctionKind.REVOCATION: "吊销登记证照",
}


def beijing(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日") if moment else "—"


# -- reasons the workflows record for their own steps -----------------------------------------

ABUSE_FOUND = "虐童行为经查属实：{findings}"
UNACKNOWLEDGED_REMINDED = "逾期未反馈措施落实情况"
UNACKNOWLEDGED_ESCALATED = "逾期仍未反馈，报领导小组办公室督办"
REMOVED_REPAIRED = "信用修复申请经审核同意，提前移出"
REMOVED_EXPIRED = "公示期满，自动移出"
ENDED_REPAIRED = "信用修复申请经认定单位同意，终止公示、停止共享"  # Order 36
ENDED_EXPIRED = "最长公示期届满，自动停止公示、停止共享"  # Order 36
UNLIFTED_REMINDED = "逾期未反馈惩戒措施解除情况"
UNLIFTED_ESCALATED = "逾期仍未解除，报领导小组办公室督办"
ALL_LIFTED = "各成员单位惩戒措施已全部解除"

# -- bans --------------------------------------------------------------------------------------

PERPETRATOR = "虐童行为人"
DIRECT_MANAGER = "直接管理人员"
BAN_SUMMARY = "{what} {name}（{masked}）终身禁入"
BAN_CORRECTED = "{name}（{masked}）终身禁入决定已更正：{reason}"

# -- decisions and re-inspections --------------------------------------------------------------

DECISION = (
    "【处理决定】{sanction} {institution} {case}",
    "{unit}对{name}作出{sanction}决定（案件 {case}）。\n依据：{legal_basis}\n"
    "理由：{reason}\n{extra}请依职责配合落实。",
)
FINE_AMOUNT = "罚款金额：{fine}元。"
RECTIFY_BY = "整改期限：{rectify_by}前，期满复查。"
DECISION_SUMMARY = "{unit} 作出{sanction}决定：{reason}"
REINSPECTION_DUE = (
    "【复查提醒】{institution} {case}",
    "{name}的整改期限已于 {due} 届满，尚未登记复查结果。请及时组织复查，不合格的依法从重处理。",
)
REINSPECTION_FAILED = (
    "【复查不合格】{institution} {case}",
    "{name}未按期完成整改（案件 {case}）。\n复查情况：{findings}\n请依法从重处理，可追加处罚措施。",
)
REINSPECTION_SUMMARY = "整改复查{result}：{findings}"
PASSED, FAILED = "合格", "不合格"

# -- joint punishment (a dispatch is a title and a text) ----------------------------------------

PRIOR_NOTICE = (
    "【事先告知】{name} 联合惩戒 {case}",
    "拟将{name}违法失信信息（案件 {case}）纳入凯里市社会公共信用信息共享平台并实施联合惩戒。\n"
    "事由：{reason}\n请转告该机构：如有异议，可于 {objection_by} 前提出。",
)
JOINT_PUNISHMENT = (
    "【联合惩戒】{name} {case}",
    "{name}已纳入失信名单（公示至 {publicity_until}）。\n事由：{reason}\n"
    "请你单位实施以下惩戒措施：{measure}\n依据：{legal_basis}\n"
    "请于 {acknowledge_by} 前反馈落实情况。",
)
ACKNOWLEDGMENT_REMINDER = (
    "【催办】联合惩戒措施落实反馈 {case}",
    "你单位尚未反馈对{name}的联合惩戒措施落实情况，请于 {acknowledge_final_by} 前反馈，"
    "逾期将报领导小组办公室。",
)
ACKNOWLEDGMENT_ESCALATION = (
    "【督办】联合惩戒措施未反馈 {case}",
    "以下单位逾期未反馈对{name}的联合惩戒措施落实情况：{pending}。请督办。",
)
REMOVAL = (
    "【信用信息移出】{name} {case}",
    "{name}的失信信息已于今日移出共享平台（{reason}），请相应停止惩戒措施。",
)
NOTICE_SUMMARY = "事先告知：拟纳入失信名单实施联合惩戒，事由：{reason}"
ENTRY_SUMMARY = "纳入失信名单，实施联合惩戒，公示至 {publicity_until}"
REMOVAL_SUMMARY = "失信信息移出共享平台：{reason}"
UNACKNOWLEDGED = "逾期未反馈联合惩戒措施落实情况"

# -- credit repair under Order 36 --------------------------------------------------------------

LIFTING = (
    "【解除惩戒】{name} {case}",
    "{name}的失信信息已终止公示、停止共享（{reason}）。请你单位同步解除"
    "以下惩戒措施：{measure}\n并于 {due} 前反馈解除情况。",
)
LIFTING_REMINDER = (
    "【催办】解除联合惩戒措施反馈 {case}",
    "你单位尚未反馈对{name}的惩戒措施解除情况，请于 {due} 前解除并反馈，逾期将报领导小组办公室。",
)
LIFTING_ESCALATION = (
    "【督办】联合惩戒措施未同步解除 {case}",
    "{name}已完成信用修复或公示期满，以下单位逾期未反馈惩戒措施解除情况：{pending}。请督办。",
)
NOT_PUBLISHED_SUMMARY = "轻微失信信息，依法不予公示：{reason}"
COMMITMENT_SUMMARY = "机构公开作出信用承诺：{reason}"
LIFTING_SUMMARY = "同步解除联合惩戒措施：已通知{pending}"
LIFTING_ACKNOWLEDGED_SUMMARY = "{unit}已解除惩戒措施"
LIFTING_REMINDED_SUMMARY = "催办解除惩戒措施：{pending}"
LIFTING_ESCALATED_SUMMARY = "逾期未解除惩戒措施，报领导小组办公室督办：{pending}"
LIFTED_SUMMARY = "各成员单位惩戒措施已全部解除"
LIFTING_UNACKNOWLEDGED = "逾期未反馈联合惩戒措施解除情况"
OUTSTANDING = "{sanction}（{decision}）{state}"  # a duty that stands in the way of repair
FAILED_REINSPECTION, NOT_REINSPECTED = "复查不合格", "尚未复查"
