"""Every code the platform knows, in one place (DOMAIN.md is the source).

Enum values are the lower-case wire codes; the Chinese seed wording travels with each
code so that docs, JSON Schemas and reports can show it.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    COMPLAINT_FILED = "complaint.filed"
    COMPLAINT_RESOLVED = "complaint.resolved"
    INSPECTION_RECORDED = "inspection.recorded"
    COMMENDATION_RECORDED = "commendation.recorded"


class Channel(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    VISIT = "visit"
    REFERRAL = "referral"
    HOTLINE = "hotline"
    WEB = "web"
    OTHER = "other"


class Handling(StrEnum):
    """How a complaint is handled, which sets its time limit (限时办结)."""

    IMMEDIATE = "immediate"
    APPROVAL = "approval"
    STUDY = "study"


class Category(StrEnum):
    DELAY = "delay"
    FIRST_INQUIRY = "first_inquiry"
    RUDE_ATTITUDE = "rude_attitude"
    BRIBERY = "bribery"
    ABUSE_OF_POWER = "abuse_of_power"
    RETALIATION = "retaliation"
    DISCLOSURE = "disclosure"
    IGNORED_REQUEST = "ignored_request"
    OVERCHARGING = "overcharging"
    REFUSAL = "refusal"
    DETOUR = "detour"
    OTHER = "other"


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"
    UNFOUNDED = "unfounded"
    WITHDRAWN = "withdrawn"


class InspectionMode(StrEnum):
    OPEN = "open"
    COVERT = "covert"
    SYSTEM = "system"


class FindingCode(StrEnum):
    LATE_ARRIVAL = "late_arrival"
    EARLY_LEAVE = "early_leave"
    ABSENT_FROM_POST = "absent_from_post"
    CHATTING_ON_DUTY = "chatting_on_duty"
    PASSENGER_DUMPING = "passenger_dumping"
    UNAUTHORISED_CARPOOL = "unauthorised_carpool"
    DETOUR = "detour"
    REFUSAL = "refusal"
    SMOKING = "smoking"
    PHONE_WHILE_DRIVING = "phone_while_driving"
    NO_SEATBELT = "no_seatbelt"
    UNTIDY = "untidy"
    NO_RECEIPT = "no_receipt"
    OVERCHARGING = "overcharging"
    OTHER = "other"


class CommendationKind(StrEnum):
    RETURNED_PROPERTY = "returned_property"
    HELPED_OTHERS = "helped_others"
    BRAVERY = "bravery"
    SERVICE_AWARD = "service_award"
    OTHER = "other"


class WarningRule(StrEnum):
    """Rules that issue an individual efficiency warning (效能告诫)."""

    ATTENDANCE = "attendance"
    ABSENCE_FROM_POST = "absence_from_post"
    TIME_LIMIT = "time_limit"
    FIRST_INQUIRY = "first_inquiry"
    RUDE_ATTITUDE = "rude_attitude"
    BRIBERY = "bribery"
    ABUSE_OF_POWER = "abuse_of_power"
    RETALIATION = "retaliation"
    OTHER_DERELICTION = "other_dereliction"


class AlertRule(StrEnum):
    """Rules that raise a unit-level alert."""

    ACCUMULATED_WARNINGS = "accumulated_warnings"
    OBSTRUCTION = "obstruction"
    UNIT_WIDE_VIOLATION = "unit_wide_violation"
    LEADERSHIP_ACCOUNTABILITY = "leadership_accountability"


class AlertLevel(StrEnum):
    COLLECTIVE_WARNING = "collective_warning"
    LEADERSHIP = "leadership"


class Status(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


ALERT_LEVELS: dict[AlertRule, AlertLevel] = {
    AlertRule.ACCUMULATED_WARNINGS: AlertLevel.COLLECTIVE_WARNING,
    AlertRule.OBSTRUCTION: AlertLevel.COLLECTIVE_WARNING,
    AlertRule.UNIT_WIDE_VIOLATION: AlertLevel.COLLECTIVE_WARNING,
    AlertRule.LEADERSHIP_ACCOUNTABILITY: AlertLevel.LEADERSHIP,
}

# The default category -> warning-rule map (DOMAIN.md table). The policy file may
# override it; this is what the default policy encodes.
DEFAULT_CATEGORY_RULES: dict[Category, WarningRule] = {
    Category.DELAY: WarningRule.TIME_LIMIT,
    Category.FIRST_INQUIRY: WarningRule.FIRST_INQUIRY,
    Category.RUDE_ATTITUDE: WarningRule.RUDE_ATTITUDE,
    Category.BRIBERY: WarningRule.BRIBERY,
    Category.ABUSE_OF_POWER: WarningRule.ABUSE_OF_POWER,
    Category.RETALIATION: WarningRule.RETALIATION,
    Category.DISCLOSURE: WarningRule.OTHER_DERELICTION,
    Category.IGNORED_REQUEST: WarningRule.OTHER_DERELICTION,
    Category.OVERCHARGING: WarningRule.OTHER_DERELICTION,
    Category.REFUSAL: WarningRule.OTHER_DERELICTION,
    Category.DETOUR: WarningRule.OTHER_DERELICTION,
    Category.OTHER: WarningRule.OTHER_DERELICTION,
}

ATTENDANCE_CODES: frozenset[FindingCode] = frozenset(
    {FindingCode.LATE_ARRIVAL, FindingCode.EARLY_LEAVE}
)
ABSENCE_CODES: frozenset[FindingCode] = frozenset(
    {FindingCode.ABSENT_FROM_POST, FindingCode.CHATTING_ON_DUTY}
)

# Seed wording, for documentation and reports.
CATEGORY_WORDING: dict[Category, str] = {
    Category.DELAY: "拖延不办、执行不力",
    Category.FIRST_INQUIRY: "首问责任人未尽职、推诿",
    Category.RUDE_ATTITUDE: "作风生硬、态度粗暴、刁难服务对象",
    Category.BRIBERY: "吃、拿、卡、要",
    Category.ABUSE_OF_POWER: "假公济私",
    Category.RETALIATION: "刁难、打击报复投诉人",
    Category.DISCLOSURE: "未履行公开、一次性告知义务",
    Category.IGNORED_REQUEST: "对群众正当要求不予理睬",
    Category.OVERCHARGING: "乱收费、不按标准收费",
    Category.REFUSAL: "拒载、拒绝服务",
    Category.DETOUR: "绕道",
    Category.OTHER: "其他",
}

FINDING_WORDING: dict[FindingCode, str] = {
    FindingCode.LATE_ARRIVAL: "迟到",
    FindingCode.EARLY_LEAVE: "早退",
    FindingCode.ABSENT_FROM_POST: "擅离岗位",
    FindingCode.CHATTING_ON_DUTY: "串岗聊天",
    FindingCode.PASSENGER_DUMPING: "甩客",
    FindingCode.UNAUTHORISED_CARPOOL: "拼客",
    FindingCode.DETOUR: "绕道",
    FindingCode.REFUSAL: "拒载",
    FindingCode.SMOKING: "吸烟",
    FindingCode.PHONE_WHILE_DRIVING: "打手机",
    FindingCode.NO_SEATBELT: "未系安全带",
    FindingCode.UNTIDY: "车容/仪容不整",
    FindingCode.NO_RECEIPT: "不出具票据",
    FindingCode.OVERCHARGING: "乱收费",
    FindingCode.OTHER: "其他",
}

COMMENDATION_WORDING: dict[CommendationKind, str] = {
    CommendationKind.RETURNED_PROPERTY: "拾金不昧",
    CommendationKind.HELPED_OTHERS: "助人为乐",
    CommendationKind.BRAVERY: "见义勇为",
    CommendationKind.SERVICE_AWARD: "服务奖励",
    CommendationKind.OTHER: "其他",
}

WARNING_WORDING: dict[WarningRule, str] = {
    WarningRule.ATTENDANCE: "月累计迟到早退超过3次",
    WarningRule.ABSENCE_FROM_POST: "擅离岗位、串岗聊天",
    WarningRule.TIME_LIMIT: "拖延不办、执行不力",
    WarningRule.FIRST_INQUIRY: "首问责任人未尽职",
    WarningRule.RUDE_ATTITUDE: "作风生硬、态度粗暴",
    WarningRule.BRIBERY: "吃、拿、卡、要",
    WarningRule.ABUSE_OF_POWER: "假公济私",
    WarningRule.RETALIATION: "打击报复投诉人",
    WarningRule.OTHER_DERELICTION: "其他失职行为",
}

ALERT_WORDING: dict[AlertRule, str] = {
    AlertRule.ACCUMULATED_WARNINGS: "科室年度累计效能告诫3次以上，集体效能告诫",
    AlertRule.OBSTRUCTION: "设置障碍、干扰调查，集体效能告诫",
    AlertRule.UNIT_WIDE_VIOLATION: "科室整体违反规定，集体效能告诫",
    AlertRule.LEADERSHIP_ACCOUNTABILITY: "主要负责人的领导责任",
}
