// Chinese names of codes the API returns.
"use strict";

const STATUS = { dispatched: "待签收", accepted: "办理中", resolved: "待回访", closed: "已办结", merged: "已合并" };
const PRIORITY = { critical: "紧急", high: "较急", ordinary: "一般", consultation: "咨询" };
const LEVEL = { town: "镇（街道）", city: "市直部门", "leading-office": "领导小组办公室" };
const CHANNEL = { hotline: "热线", web: "网站", open311: "Open311", mail: "信件", visit: "来访",
  camera: "视频报警", inspection: "检查发现", other: "其他" };
const ACTIONS = {
  "case.opened": "立案", "case.merged": "并案", "case.dispatched": "派单", "case.accepted": "签收",
  "case.reminded": "催办", "case.escalated": "升级至市直部门", "case.notice-interview": "通报约谈",
  "case.returned": "退回改派", "case.note": "办理记录", "case.assistance-requested": "请求协办",
  "case.resolved": "报告处理结果", "case.closed": "办结", "case.followed-up": "回访",
  "case.reopened": "重新办理", "case.handed-down": "下交", "case.taken-over": "提级办理",
  "case.joined": "同类投诉并入", "case.alarm-storm": "报警风暴汇总", "notification.sent": "发送通知",
  "decision.made": "作出处理决定", "decision.reinspected": "整改复查", "decision.reinspection-due": "复查到期提醒",
  "ban.issued": "终身禁入", "ban.corrected": "更正禁入决定", "complainant.viewed": "查看来电人信息",
  "credit.noticed": "联合惩戒告知", "credit.objected": "机构异议", "credit.published": "联合惩戒公示",
  "credit.acknowledged": "惩戒措施落实反馈", "credit.removed": "移出联合惩戒",
  "credit.withdrawn": "撤销联合惩戒", "credit.objection-rejected": "异议不成立",
  "credit.not-published": "轻微失信，不予公示", "credit.reminded": "催办惩戒措施落实",
  "credit.escalated": "惩戒措施落实逾期，报领导小组办公室", "credit.committed": "信用承诺",
  "credit.repair-requested": "信用修复申请", "credit.repair-reviewed": "信用修复审核",
  "credit.lifting": "通知解除惩戒措施", "credit.lifting-acknowledged": "惩戒措施解除反馈",
  "credit.lifting-reminded": "催办惩戒措施解除", "credit.lifting-escalated": "惩戒措施解除逾期，报领导小组办公室",
  "credit.lifted": "惩戒措施全部解除",
  "target.reported": "填报2025年目标数据",
  "case.return-requested": "退单申请", "case.return-rejected": "退单审核不通过",
  "case.extension-requested": "延期申请", "case.extension-approved": "同意延期",
  "case.extension-refused": "不同意延期", "case.supervised": "督办",
  "case.supervision-overdue": "督办逾期", "case.redo": "重办",
  "case.answered-directly": "直接答复", "attachment.added": "上传附件", "case.notice-reminder": "通报约谈后催办",
};
const CREDIT_STATUS = { noticed: "已告知，异议期内", objected: "异议复核中", withdrawn: "已撤销",
  published: "已公示", removed: "已移出", "not-published": "轻微失信，不予公示" };
const TIER_NAMES = { minor: "轻微", general: "一般", serious: "严重" };
let UNIT_NAMES = {};
let CATEGORY_NAMES = {};

async function loadNames() {
  const [units, catalogue] = await Promise.all([api("/api/v1/units"), api("/api/v1/catalogue")]);
  for (const u of units) UNIT_NAMES[u.code] = u.name;
  for (const c of catalogue) CATEGORY_NAMES[c.code] = c.name;
  return units;
}

function unitName(code) { return UNIT_NAMES[code] || code || "—"; }

// "还剩 3小时12分" or "已超时 5分"; the class says how urgent.
function countdown(due, now) {
  if (!due) return { text: "—", cls: "" };
  let ms = new Date(due) - now;
  const over = ms < 0;
  ms = Math.abs(ms);
  const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24;
  const m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
  const text = (d ? d + "天" : "") + (d || h ? h + "小时" : "") + m + "分" + (d ? "" : s + "秒");
  return over ? { text: "已超时 " + text, cls: "countdown overdue" }
              : { text: "还剩 " + text, cls: ms < 3600000 ? "countdown soon" : "countdown" };
}
