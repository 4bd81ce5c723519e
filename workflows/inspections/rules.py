"""What an inspection report means, as pure rules shared by the API (which answers the
inspector with the cases to be opened) and the recording activity (which opens them): which
findings are serious, and the one complaint per case category they become."""

from __future__ import annotations

from collections import defaultdict

from infra import reference
from models.complaints import Category, Channel, ComplaintReceived
from models.inspections import Finding, InspectionKind, InspectionReport, Severity
from models.timeutil import SHANGHAI

KIND_NAMES = {
    InspectionKind.SPOT_CHECK: "抽查",
    InspectionKind.ANNUAL_REVIEW: "年度评估",
    InspectionKind.HEALTH_INSPECTION: "卫生保健检查",
    InspectionKind.MONITORING: "系统监测",
}


def complaint_event_id(report: InspectionReport, category: Category) -> str:
    return f"inspection:{report.event_id}:{category}"


def findings_to_complaints(report: InspectionReport) -> list[ComplaintReceived]:
    """One complaint per case category among the serious findings (same report, same concern:
    one case)."""
    catalogue = reference.findings()
    by_category: dict[Category, list[str]] = defaultdict(list)
    for finding in report.findings:
        info = catalogue[finding.code]
        if is_serious(finding):
            line = info.name + (f"：{finding.note}" if finding.note else "")
            by_category[info.category].append(line)
    place = report.institution_name or report.institution_id
    when = report.occurred_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日")
    return [
        ComplaintReceived(
            event_id=complaint_event_id(report, category),
            occurred_at=report.occurred_at,
            channel=Channel.INSPECTION,
            category=category,
            town=report.town,
            institution_id=report.institution_id,
            institution_name=report.institution_name,
            description=(
                f"{when}{KIND_NAMES[report.kind]}发现{place}存在严重问题：" + "；".join(lines)
            ),
            anonymous=True,
        )
        for category, lines in by_category.items()
    ]


def severity_of(finding: Finding) -> Severity:
    """The inspector's severity when stated, else the catalogue's default for the code."""
    return finding.severity or reference.findings()[finding.code].severity


def is_serious(finding: Finding) -> bool:
    return severity_of(finding) is Severity.SERIOUS
