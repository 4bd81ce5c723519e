"""Chinese texts of enforcement notifications."""

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
