"""Chinese labels (with the English code beside them) for the dashboard's codes."""

from __future__ import annotations

from shared.catalogue import (
    CATEGORY_WORDING,
    FINDING_WORDING,
    AlertRule,
    Category,
    FindingCode,
    WarningRule,
)

RULES: dict[str, str] = {
    WarningRule.ATTENDANCE: "迟到早退",
    WarningRule.ABSENCE_FROM_POST: "擅离岗位",
    WarningRule.TIME_LIMIT: "拖延不办",
    WarningRule.FIRST_INQUIRY: "首问不尽职",
    WarningRule.RUDE_ATTITUDE: "态度粗暴",
    WarningRule.BRIBERY: "吃拿卡要",
    WarningRule.ABUSE_OF_POWER: "假公济私",
    WarningRule.RETALIATION: "打击报复",
    WarningRule.OTHER_DERELICTION: "其他失职",
    AlertRule.ACCUMULATED_WARNINGS: "累计告诫",
    AlertRule.OBSTRUCTION: "干扰调查",
    AlertRule.UNIT_WIDE_VIOLATION: "整体违规",
    AlertRule.LEADERSHIP_ACCOUNTABILITY: "领导责任",
}
LEVELS = {
    "collective_warning": "集体效能告诫 (yellow card 黄牌)",
    "leadership": "领导责任 (red card 红牌)",
}
STATUSES = {"active": "有效 active", "revoked": "已撤销 revoked"}
HANDLING = {
    "immediate": "当场办结 immediate",
    "approval": "2个工作日 approval",
    "study": "7个工作日 study",
}
CHANNELS = {
    "phone": "电话",
    "letter": "信函",
    "visit": "来访",
    "referral": "转办",
    "hotline": "热线",
    "web": "网络",
    "other": "其他",
}


def rule(code: str) -> str:
    return f"{RULES.get(code, '')} {code}".strip()


def category(code: str) -> str:
    try:
        return f"{CATEGORY_WORDING[Category(code)]} {code}"
    except ValueError:
        return code


def finding(code: str) -> str:
    try:
        return f"{FINDING_WORDING[FindingCode(code)]} {code}"
    except ValueError:
        return code


def coded(table: dict[str, str], code: str) -> str:
    label = table.get(code)
    return f"{label} {code}" if label and code not in label else (label or code)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"
