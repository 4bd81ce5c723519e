// The actions of a case: what each sends, and who may do it now. The server decides in the
// end (the workflow's validators); these rules mirror workflows/cases/rules.py and are used
// only when the case does not come with the server's own `allowed_actions`.
"use strict";

const OPEN = ["dispatched", "accepted"];
const SUPERVISORS = ["leading-office", "admin"];
const OUTCOMES = { substantiated: "属实", "partly-substantiated": "部分属实", unsubstantiated: "不属实" };
const SANCTIONS = { rectification: "责令整改", warning: "警告", fine: "罚款", suspension: "责令停业整顿",
  revocation: "吊销登记" };
const RATINGS = { satisfied: "满意", "basically-satisfied": "基本满意", dissatisfied: "不满意" };
const YES_NO = { yes: "是", no: "否" };

function isLead(x) {
  return SUPERVISORS.includes(x.me.role) || (x.me.role === "department" && x.s.lead.includes(x.me.unit));
}
function isHandler(x) { return !!x.me.unit && x.me.unit === x.s.handler; }
function jurisdictions() {
  return Object.fromEntries(UNITS.filter((u) => ["town", "street", "zone"].includes(u.kind)).map((u) => [u.code, u.name]));
}
function allUnits() { return Object.fromEntries(UNITS.map((u) => [u.code, u.name])); }
// "王五 522601199001010010" per line (spaces, commas or a tab between): the last part is the
// number, the rest the name. The server checks both and says in Chinese what is wrong.
function persons(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const parts = line.split(/[\s,，、]+/);
    const id_number = parts.length > 1 ? parts.pop() : "";
    return { name: parts.join(""), id_number };
  });
}

// field: [name, label, kind, options]; kinds: text, textarea, select, number.
const CASE_ACTIONS = [
  { key: "accept", label: "签收", path: "accept", fields: [["note", "签收说明（可不填）", "textarea", { optional: true, max: 2000 }]],
    rule: (x) => x.s.status === "dispatched" && isHandler(x) },
  { key: "return", label: "退单", path: "return",
    fields: [["reason", "退单理由", "textarea", { max: 2000 }],
             ["to_unit", "应归属的镇（街道）（不确定可不选）", "select", { optional: true, choices: jurisdictions }]],
    rule: (x) => x.s.status === "dispatched" && isHandler(x) && x.s.level === "town"
      && !(x.s.deadlines.return_by && serverNow() > new Date(x.s.deadlines.return_by)) },
  { key: "note", label: "备注", path: "notes", fields: [["text", "备注内容", "textarea", { max: 5000 }]],
    rule: (x) => [...OPEN, "resolved"].includes(x.s.status) && (["operator", ...SUPERVISORS].includes(x.me.role)
      || [x.s.handler, ...x.s.collaborators, ...x.s.assisting, ...x.s.lead].includes(x.me.unit)) },
  { key: "assist", label: "请求协办", path: "assist",
    fields: [["unit", "协办单位", "select", { choices: allUnits }], ["reason", "协办事项", "textarea", { max: 2000 }]],
    rule: (x) => x.s.status === "accepted" && isHandler(x) },
  // A child-abuse result names the persons who did it (banned for life, with their direct
  // managers): one per line, the name then the identity number.
  { key: "result", label: "反馈办理结果", path: "result",
    fields: [["outcome", "核查结论", "select", { choices: () => OUTCOMES }], ["findings", "办理情况", "textarea", { max: 5000 }],
             ["persons", "涉事人员（属实时填写，每行一人：姓名 身份证号；将被终身禁业）", "textarea",
              { optional: true, max: 2000, when: (x) => x.s.category === "child-abuse" }]],
    body: (v) => Object.assign({ outcome: v.outcome, findings: v.findings }, v.persons ? { persons: persons(v.persons) } : {}),
    rule: (x) => x.s.status === "accepted" && isHandler(x) },
  { key: "follow_up", label: "回访", path: "follow-up",
    fields: [["rating", "来电人评价", "select", { choices: () => RATINGS }],
             ["resolved", "问题是否解决", "select", { choices: () => YES_NO }],
             ["redo_by", "不满意时由谁重办", "select", { optional: true, when: (x) => Array.isArray(x.c.allowed_actions),
               choices: () => ({ lead: "市级牵头部门重新办理", "same-unit": "原承办单位重办（因办理不到位）" }) }],
             ["comment", "回访记录", "textarea", { optional: true, max: 1900 }]],
    body: (v) => Object.assign({ rating: v.rating, resolved: v.resolved === "yes" },
      v.comment ? { comment: v.comment } : {},
      v.redo_by && v.rating === "dissatisfied" ? { redo_by: v.redo_by } : {}),
    rule: (x) => x.s.status === "resolved" && ["operator", "admin"].includes(x.me.role) && !x.s.anonymous },
  { key: "close", label: "办结", path: "close", fields: [["reason", "办结说明", "textarea", { max: 2000 }]],
    rule: (x) => x.s.status === "resolved" && (x.me.role === "operator" || isLead(x)) },
  { key: "hand_down", label: "交办", path: "hand-down",
    fields: [["unit", "交办至", "select", { choices: jurisdictions }], ["reason", "交办说明", "textarea", { max: 2000 }]],
    rule: (x) => OPEN.includes(x.s.status) && isLead(x) },
  { key: "take_over", label: "提级办理", path: "take-over", fields: [["reason", "提级理由", "textarea", { max: 2000 }]],
    rule: (x) => OPEN.includes(x.s.status) && isLead(x) && !!x.me.unit && x.me.unit !== x.s.handler },
    // The 12345 work-order steps: shown only when the server lists them (no rule here).
  { key: "review_return", label: "退单审核", path: "review-return",
    fields: [["approve", "审核结论", "select", { choices: () => ({ yes: "同意退单并改派", no: "不同意，由原单位办理" }) }],
             ["to_unit", "改派至（不选则按退单所指或市级牵头部门）", "select", { optional: true, choices: jurisdictions }],
             ["reason", "审核意见", "textarea", { max: 2000 }]],
    body: (v) => Object.assign({ approve: v.approve === "yes", reason: v.reason }, v.to_unit ? { to_unit: v.to_unit } : {}),
    rule: () => false },
  { key: "extension", label: "申请延期", path: "extension",
    fields: [["working_days", "延期工作日数", "number", {}], ["reason", "延期理由", "textarea", { max: 2000 }]],
    body: (v) => ({ working_days: Number(v.working_days), reason: v.reason }), rule: () => false },
  { key: "extension_decision", label: "延期审批", path: "extension-decision",
    fields: [["approve", "审批结论", "select", { choices: () => ({ yes: "同意延期", no: "不同意" }) }], ["reason", "审批意见", "textarea", { max: 2000 }]],
    body: (v) => ({ approve: v.approve === "yes", reason: v.reason }), rule: () => false },
  { key: "supervise", label: "督办", path: "supervise",
    fields: [["comments", "督办意见", "textarea", { max: 2000 }], ["due_by", "办理期限（北京时间）", "datetime-local", {}]],
    body: (v) => ({ comments: v.comments, due_by: v.due_by.length === 16 ? v.due_by + ":00+08:00" : v.due_by + "+08:00" }),
    rule: () => false },
  // Sanctions of the enforcement workflow (after a substantiated result): the case's own
  // list does not cover them, the enforcement rules do.
  { key: "decide", label: "作出处理决定", path: "decisions",
    fields: [["kind", "处理种类", "select", { choices: () => SANCTIONS }], ["legal_basis", "法律依据", "text", { max: 500 }],
             ["reason", "理由", "textarea", { max: 2000 }], ["fine_yuan", "罚款金额（元，罚款时填写）", "number", { optional: true }],
             ["rectify_within_days", "整改期限（工作日，责令整改时填写）", "number", { optional: true }]],
    body: (v) => ({ kind: v.kind, legal_basis: v.legal_basis, reason: v.reason,
      fine_yuan: v.fine_yuan ? v.fine_yuan : null, rectify_within_days: v.rectify_within_days ? Number(v.rectify_within_days) : null }),
    rule: (x) => !!x.enf && isLead(x) },
  { key: "reinspect", label: "整改复查", path: "reinspections",
    fields: [["decision_id", "整改决定", "select", { choices: (x) => Object.fromEntries(Object.entries(x.enf.open_rectifications)
               .map(([id, due]) => [id, "整改期限 " + beijing(due)])) }],
             ["passed", "复查结论", "select", { choices: () => ({ yes: "整改合格", no: "整改不合格" }) }],
             ["findings", "复查情况", "textarea", { max: 5000 }]],
    body: (v) => ({ decision_id: v.decision_id, passed: v.passed === "yes", findings: v.findings }),
    rule: (x) => !!x.enf && isLead(x) && Object.keys(x.enf.open_rectifications).length > 0 },
  { key: "joint_punishment", label: "启动联合惩戒", path: "joint-punishment",
    // Order 36: the tier follows the sanction (the table in force, /api/v1/credit-tiers).
    fields: [["sanction", "处罚种类（定失信等级；不选则按情节）", "select", { optional: true, choices: (x) => Object.fromEntries(
               (x.tier_rules || []).map((r) => [r.sanction, r.name + "（" + (TIER_NAMES[r.tier] || r.tier) + "失信）"])) }],
             ["serious", "情节（未列明处罚种类时）", "select", { choices: () => ({ no: "一般失信", yes: "严重失信" }) }],
             ["publicity_months", "公示期（月；轻微失信不予公示填 0）", "number", {}], ["legal_basis", "法律依据", "text", { max: 500 }],
             ["reason", "理由", "textarea", { max: 2000 }]],
    body: (v) => ({ sanction: v.sanction || null, serious: v.serious === "yes", publicity_months: Number(v.publicity_months), legal_basis: v.legal_basis, reason: v.reason }),
    rule: (x) => !!x.enf && isLead(x) && !x.enf.joint_punishment },
];

// Credit steps on a started joint punishment (/api/v1/credit/{entry}).
const CREDIT_ACTIONS = [
  { key: "credit_objection", label: "登记机构异议", path: "objection", fields: [["reason", "异议内容", "textarea", { max: 2000 }]],
    rule: (x) => x.credit.status === "noticed" && !x.credit.objection && ["operator", "town", "admin"].includes(x.me.role) },
  { key: "credit_objection_review", label: "复核异议", path: "objection-review",
    fields: [["upheld", "复核结论", "select", { choices: () => ({ yes: "异议成立", no: "异议不成立" }) }], ["reason", "理由", "textarea", { max: 2000 }]],
    body: (v) => ({ upheld: v.upheld === "yes", reason: v.reason }),
    rule: (x) => x.credit.status === "objected" && isLead(x) },
  { key: "credit_acknowledge", label: "反馈惩戒措施落实", path: "acknowledge", fields: [["note", "落实情况（可不填）", "textarea", { optional: true, max: 2000 }]],
    rule: (x) => x.credit.status === "published" && x.credit.pending.includes(x.me.unit) },
  // Order 36: the institution's public credit commitment comes before the repair request.
  { key: "credit_commitment", label: "登记信用承诺", path: "commitment",
    fields: [["commitment", "信用承诺（所提交材料真实有效，愿承担违反承诺的责任）", "textarea", { max: 2000 }]],
    rule: (x) => x.credit.status === "published" && x.credit.rules === "order-36" && !x.credit.commitment && ["operator", "town", "admin"].includes(x.me.role) },
  { key: "credit_repair", label: "登记信用修复申请", path: "repair", fields: [["reason", "申请理由（已纠正失信行为、履行法定义务的情况）", "textarea", { max: 2000 }]],
    rule: (x) => x.credit.status === "published" && !x.credit.repair_request && ["operator", "town", "admin"].includes(x.me.role)
      && (x.credit.rules !== "order-36" || !!x.credit.commitment) },
  // 谁认定、谁修复: under Order 36 the finding (lead) department decides, not the leading office.
  { key: "credit_repair_review", label: "审核信用修复", path: "repair-review",
    fields: [["upheld", "审核结论", "select", { choices: () => ({ yes: "同意修复", no: "不同意" }) }], ["reason", "理由", "textarea", { max: 2000 }]],
    body: (v) => ({ upheld: v.upheld === "yes", reason: v.reason }),
    rule: (x) => x.credit.status === "published" && !!x.credit.repair_request && isLead(x) && !(x.credit.rules === "order-36" && x.me.role === "leading-office") },
  { key: "credit_lifting", label: "反馈惩戒措施解除", path: "lifting-acknowledge", fields: [["note", "解除情况（可不填）", "textarea", { optional: true, max: 2000 }]],
    rule: (x) => (x.credit.lifting || []).includes(x.me.unit) },
];

const BAN_CORRECTION = { key: "ban_correction", label: "更正禁入决定", fields: [["reason", "更正理由（如法院判决）", "textarea", { max: 2000 }]],
  rule: (x) => SUPERVISORS.includes(x.me.role) };

const ENFORCEMENT_KEYS = ["decide", "reinspect", "joint_punishment"];
const ALIASES = { note: ["notes", "add_note"], result: ["report_result"], return: ["return_case"],
  decide: ["decision"], reinspect: ["reinspection"] };

// The server's list when it sends one (names with - or _), else the rule.
function allowedNow(action, x) {
  const listed = x.c && Array.isArray(x.c.allowed_actions) ? x.c.allowed_actions.map((a) => String(a).replace(/-/g, "_")) : null;
  const names = [action.key, (action.path || "").replace(/-/g, "_"), ...(ALIASES[action.key] || [])];
  if (listed && CASE_ACTIONS.includes(action) && !ENFORCEMENT_KEYS.includes(action.key)) return names.some((n) => listed.includes(n));
  try { return !!action.rule(x); } catch (e) { return false; }
}
