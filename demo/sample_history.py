"""A deterministic sample history modelled on the seed documents (shared/seed).

- A taxi company (第一篇, 红星出租汽车公司): 41 valid complaints in January 2026 and 27 in
  February, 68 in all, 60% fewer than the 170 of January–February 2025; open and covert
  checks (明查暗访) finding 甩客、拼客、绕道、吸烟、打手机; 183 good deeds (好人好事:
  拾金不昧、助人为乐、见义勇为) in January–February 2026; star drivers (星级服务车).
- A quality-supervision bureau (第三篇, 质监局): the attendance clock, efficiency complaints,
  individual warnings (效能告诫), collective warnings (科室集体效能告诫) and leadership
  accountability (领导责任); one verdict overturned on re-examination; an obstructed
  investigation; a unit-wide violation; a complaint left overdue and one resolved late.
- A power-supply company's service hall (第二、四篇): 95598 hotline complaints with
  verdicts, a monthly check (每月考核一次) and service awards.

Every id is fixed, so sending the history again is harmless: (source, id) is the
idempotency key and the platform deduplicates. Times are local (+08:00) except the
attendance clock and some taxi-hotline records, which write UTC (Z).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

Envelope = dict[str, Any]

SHANGHAI = timezone(timedelta(hours=8))

TAXI_UNITS = ("taxi-co/fleet-1", "taxi-co/fleet-2", "taxi-co/fleet-3")
QSB_UNITS = ("qsb/licensing", "qsb/metrology", "qsb/inspection", "qsb/service-window")
POWER_UNITS = ("power/hall-east",)
UNIT_NAMES = {
    "taxi-co/fleet-1": "出租车一队",
    "taxi-co/fleet-2": "出租车二队",
    "taxi-co/fleet-3": "出租车三队",
    "qsb/licensing": "行政许可科",
    "qsb/metrology": "计量科",
    "qsb/inspection": "稽查科",
    "qsb/service-window": "政务服务窗口",
    "power/hall-east": "供电东区营业厅",
}

# Moments inside the story at which the on-demand views have something to show.
WATCHLIST_AS_OF = "2026-03-31T20:00:00+08:00"
OVERDUE_AS_OF = "2026-03-10T12:00:00+08:00"
# Staff whose scorecards (星级服务) the report shows, with their part in the story.
SCORECARD_STAFF = (
    ("D0007", 2026, "star driver 星级驾驶员"),
    ("D0013", 2026, "driver with violations 违章驾驶员"),
    ("E1007", 2026, "late five times in January 迟到早退"),
    ("E1013", 2026, "warning overturned on appeal 复查撤销"),
    ("P2003", 2026, "hall service award 服务标兵"),
)

# ---------------------------------------------------------------------------- helpers


def _stamp(local: datetime, *, utc: bool = False) -> str:
    """RFC 3339 for a naive Asia/Shanghai wall-clock time, as +08:00 or as UTC (Z)."""
    aware = local.replace(tzinfo=SHANGHAI)
    if utc:
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return aware.isoformat(timespec="seconds")


def _event(
    kind: str,
    event_id: str,
    source: str,
    local: datetime,
    unit_id: str,
    data: dict[str, Any],
    *,
    staff_id: str | None = None,
    utc: bool = False,
) -> Envelope:
    event: Envelope = {
        "id": event_id,
        "type": kind,
        "source": source,
        "occurred_at": _stamp(local, utc=utc),
        "unit_id": unit_id,
    }
    if staff_id is not None:
        event["staff_id"] = staff_id
    event["data"] = data
    return event


@dataclass(frozen=True, slots=True)
class Verdict:
    at: datetime
    outcome: str
    obstructed: bool = False


@dataclass(frozen=True, slots=True)
class Case:
    """One complaint (投诉) and the verdicts on it, in the order they were given."""

    complaint_id: str
    unit_id: str
    staff_id: str | None
    filed: datetime
    channel: str
    category: str
    handling: str
    summary: str
    verdicts: tuple[Verdict, ...] = ()
    complainant: dict[str, str] | None = None
    utc: bool = False


def _case_events(case: Case, source: str, prefix: str) -> Iterator[Envelope]:
    data: dict[str, Any] = {
        "complaint_id": case.complaint_id,
        "channel": case.channel,
        "category": case.category,
        "handling": case.handling,
        "summary": case.summary,
    }
    if case.complainant is not None:
        data["complainant"] = case.complainant
    yield _event(
        "complaint.filed",
        f"{prefix}-f-{case.complaint_id}",
        source,
        case.filed,
        case.unit_id,
        data,
        staff_id=case.staff_id,
        utc=case.utc,
    )
    for number, verdict in enumerate(case.verdicts, start=1):
        verdict_data: dict[str, Any] = {
            "complaint_id": case.complaint_id,
            "outcome": verdict.outcome,
        }
        if verdict.obstructed:
            verdict_data["obstructed"] = True
        suffix = "" if number == 1 else f"-{number}"  # a re-examination (复查) is a new event
        yield _event(
            "complaint.resolved",
            f"{prefix}-r-{case.complaint_id}{suffix}",
            source,
            verdict.at,
            case.unit_id,
            verdict_data,
            utc=case.utc,
        )


def _inspection(
    source: str,
    inspection_id: str,
    local: datetime,
    unit_id: str,
    mode: str,
    inspector: str,
    findings: Sequence[dict[str, Any]],
    *,
    utc: bool = False,
) -> Envelope:
    data = {
        "inspection_id": inspection_id,
        "mode": mode,
        "inspector": inspector,
        "findings": list(findings),
    }
    return _event(
        "inspection.recorded", f"ins-{inspection_id}", source, local, unit_id, data, utc=utc
    )


def _commendation(
    commendation_id: str, local: datetime, unit_id: str, staff_id: str, kind: str, summary: str
) -> Envelope:
    data = {"commendation_id": commendation_id, "kind": kind, "summary": summary}
    return _event(
        "commendation.recorded",
        f"cm-{commendation_id}",
        "hr-awards",
        local,
        unit_id,
        data,
        staff_id=staff_id,
    )


def _spread(year: int, month: int, index: int, count: int) -> datetime:
    """The index-th of `count` moments spread over a month, in working hours."""
    days = calendar.monthrange(year, month)[1]
    day = 1 + index * days // count
    return datetime(year, month, day, 8 + (index * 5) % 12, (index * 23) % 60)


# ----------------------------------------------------------------------- taxi company

# Valid complaints (有效投诉) per month: 68 in Jan–Feb 2026, 170 a year before (-60%).
TAXI_COMPLAINTS = {(2025, 1): 96, (2025, 2): 74, (2026, 1): 41, (2026, 2): 27}
TAXI_GOOD_DEEDS = {(2026, 1): 97, (2026, 2): 86}  # 183 好人好事
_TAXI_GRIEVANCES = (
    ("refusal", "拒载：乘客在火车站招手，空车不停"),
    ("detour", "绕道：机场至市区多绕行约8公里"),
    ("overcharging", "不打表，一口价收费"),
    ("rude_attitude", "司机态度生硬，与乘客争执"),
    ("other", "中途甩客，另行拼载他人"),
    ("refusal", "夜间拒绝短途载客"),
    ("detour", "明知路线仍故意绕道"),
    ("overcharging", "多收过路费"),
)
_TAXI_CHANNELS = ("hotline", "phone", "web", "hotline", "referral", "letter", "visit")
_TAXI_HANDLING = ("immediate", "approval", "approval", "study")
# Complaints in which the passenger identified the driver: (year, month, index) -> driver.
_TAXI_NAMED = {
    (2025, 1, 12): "D0013", (2025, 2, 20): "D0050", (2026, 1, 6): "D0013", (2026, 2, 9): "D0035",
}  # fmt: skip
STAR_DRIVERS = ("D0007", "D0021", "D0042")
_TAXI_OFFENDERS = frozenset({"D0013", "D0017", "D0026", "D0035", "D0048", "D0050", "D0055"})
# Checks (明查暗访): (month, day, hour, mode, driver, finding codes); empty = clean.
_TAXI_CHECKS = {
    2025: (
        (2, 24, 9, "open", "D0003", ("no_seatbelt", "untidy")),
        (2, 24, 15, "covert", "D0017", ("passenger_dumping",)),
        (2, 24, 21, "covert", "D0026", ("unauthorised_carpool", "smoking")),
        (2, 25, 10, "open", "D0031", ("no_receipt",)),
        (2, 25, 14, "covert", "D0048", ("detour",)),
        (2, 25, 19, "covert", "D0055", ("phone_while_driving",)),
        (2, 26, 9, "open", "D0009", ()),
        (2, 26, 16, "covert", "D0013", ("smoking", "phone_while_driving")),
        (2, 26, 22, "covert", "D0035", ("passenger_dumping", "unauthorised_carpool")),
        (2, 27, 11, "open", "D0044", ("untidy",)),
        (2, 27, 17, "covert", "D0050", ("detour",)),
        (2, 27, 20, "covert", "D0023", ("smoking",)),
        (2, 28, 10, "open", "D0002", ()),
        (2, 28, 18, "covert", "D0058", ("refusal",)),
    ),
    2026: (
        (1, 14, 10, "open", "D0013", ("detour",)),
        (1, 14, 15, "open", "D0007", ()),
        (1, 15, 9, "open", "D0042", ()),
        (1, 15, 20, "covert", "D0028", ()),
        (2, 24, 9, "open", "D0021", ()),
        (2, 24, 15, "covert", "D0017", ("passenger_dumping",)),
        (2, 24, 21, "covert", "D0026", ("unauthorised_carpool",)),
        (2, 25, 10, "open", "D0031", ()),
        (2, 25, 14, "covert", "D0048", ("detour",)),
        (2, 25, 19, "covert", "D0055", ("smoking",)),
        (2, 26, 9, "open", "D0009", ()),
        (2, 26, 16, "covert", "D0013", ("phone_while_driving",)),
        (2, 26, 22, "covert", "D0038", ()),
        (2, 27, 11, "open", "D0044", ()),
        (2, 27, 17, "covert", "D0050", ()),
        (2, 27, 20, "covert", "D0023", ()),
        (2, 28, 10, "open", "D0002", ()),
        (2, 28, 18, "covert", "D0058", ()),
    ),
}
_GOOD_DEEDS = {
    "returned_property": (
        "拾金不昧：归还乘客遗落的手机",
        "拾金不昧：归还乘客遗落的钱包及现金",
        "拾金不昧：送还乘客遗落的行李箱",
        "拾金不昧：归还乘客遗落的笔记本电脑",
    ),
    "helped_others": (
        "助人为乐：免费送行动不便的老人回家",
        "助人为乐：帮助走失儿童找到家人",
        "助人为乐：雪天免费接送急诊病人",
    ),
    "bravery": ("见义勇为：协助民警抓获抢夺嫌疑人", "见义勇为：下车救助落水群众"),
}


def driver_fleet(driver: str) -> str:
    """D0001–D0020 drive for fleet 1, D0021–D0040 for fleet 2, D0041–D0060 for fleet 3."""
    return TAXI_UNITS[(int(driver[1:]) - 1) // 20]


def _taxi_outcome(index: int) -> str:
    if index % 20 == 7:
        return "withdrawn"
    return "unfounded" if index % 10 == 3 else "substantiated"


def _taxi_complaints() -> Iterator[Envelope]:
    for (year, month), count in TAXI_COMPLAINTS.items():
        for index in range(count):
            driver = _TAXI_NAMED.get((year, month, index))
            category, summary = _TAXI_GRIEVANCES[index % len(_TAXI_GRIEVANCES)]
            handling = _TAXI_HANDLING[index % len(_TAXI_HANDLING)]
            filed = _spread(year, month, index, count)
            if index == 0 and year == 2026:  # 00:30 on the 1st: the month before in UTC
                filed = datetime(year, month, 1, 0, 30)
            verdict_at = (
                filed + timedelta(hours=3)
                if handling == "immediate"
                else datetime(filed.year, filed.month, filed.day, 10 + index % 6) + timedelta(1)
            )
            complainant = {"name": "乘客", "phone": "139-0000-0000"} if index % 7 == 0 else None
            case = Case(
                complaint_id=f"TX-{year}{month:02d}-{index + 1:03d}",
                unit_id=driver_fleet(driver) if driver else TAXI_UNITS[index % 3],
                staff_id=driver,
                filed=filed,
                channel=_TAXI_CHANNELS[index % len(_TAXI_CHANNELS)],
                category=category,
                handling=handling,
                summary=summary,
                verdicts=(Verdict(verdict_at, _taxi_outcome(index)),),
                complainant=complainant,
                utc=index % 5 == 0,
            )
            yield from _case_events(case, "hotline-12328", "tx")


def _taxi_checks() -> Iterator[Envelope]:
    for year, checks in _TAXI_CHECKS.items():
        for number, (month, day, hour, mode, driver, codes) in enumerate(checks, start=1):
            inspector = "运管处督查组" if mode == "open" else "暗访组"
            findings = [{"code": code, "staff_id": driver} for code in codes]
            yield _inspection(
                "inspection-app",
                f"TXI-{year}-{number:03d}",
                datetime(year, month, day, hour, 15),
                driver_fleet(driver),
                mode,
                inspector,
                findings,
            )


def _good_deed_driver(index: int, month: int) -> str:
    if index % 10 == 0:
        return STAR_DRIVERS[(index // 10) % len(STAR_DRIVERS)]
    number = (index * 7 + month) % 60 + 1
    while f"D{number:04d}" in _TAXI_OFFENDERS:
        number = number % 60 + 1
    return f"D{number:04d}"


def _good_deed_kind(index: int) -> str:
    if index % 12 == 5:
        return "bravery"
    return "returned_property" if index % 5 in (0, 2) else "helped_others"


def _taxi_good_deeds() -> Iterator[Envelope]:
    for (year, month), count in TAXI_GOOD_DEEDS.items():
        for index in range(count):
            driver = _good_deed_driver(index, month)
            kind = _good_deed_kind(index)
            summaries = _GOOD_DEEDS[kind]
            yield _commendation(
                f"GD-{year}{month:02d}-{index + 1:03d}",
                _spread(year, month, index, count) + timedelta(hours=1),
                driver_fleet(driver),
                driver,
                kind,
                summaries[index % len(summaries)],
            )
    for driver in STAR_DRIVERS:  # the star service vehicles of the year (星级服务车)
        yield _commendation(
            f"STAR-2026-{driver}",
            datetime(2026, 3, 1, 10, 0),
            driver_fleet(driver),
            driver,
            "service_award",
            "2025年度五星级服务车",
        )


def taxi_history() -> list[Envelope]:
    return [*_taxi_complaints(), *_taxi_checks(), *_taxi_good_deeds()]


# ---------------------------------------------- quality-supervision bureau (质监局)

QSB_STAFF = {
    "qsb/licensing": tuple(f"E{n}" for n in range(1001, 1009)),
    "qsb/metrology": tuple(f"E{n}" for n in range(1009, 1015)),
    "qsb/inspection": tuple(f"E{n}" for n in range(1015, 1021)),
    "qsb/service-window": tuple(f"E{n}" for n in range(1021, 1027)),
}
# Attendance clock exceptions (迟到、早退): staff -> [(date, code)]. E1007 is late five
# times in January (warned at the 4th); E1010 exactly three times in March (预警).
_CLOCK_EXCEPTIONS = {
    "E1007": ((1, 6, "late_arrival"), (1, 9, "late_arrival"), (1, 14, "early_leave"),
              (1, 20, "late_arrival"), (1, 27, "late_arrival")),
    "E1010": ((2, 3, "late_arrival"), (3, 3, "late_arrival"), (3, 12, "early_leave"),
              (3, 24, "late_arrival")),
    "E1001": ((1, 8, "late_arrival"), (2, 5, "late_arrival"), (2, 6, "early_leave")),
    "E1016": ((2, 10, "late_arrival"), (2, 11, "late_arrival")),
    "E1024": ((3, 16, "early_leave"),),
}  # fmt: skip
_CLOCK_FIRST, _CLOCK_LAST = date(2026, 1, 5), date(2026, 3, 31)
# Official holidays and make-up working days (调休) of early 2026.
_HOLIDAYS = frozenset(date(2026, 2, day) for day in (16, 17, 18, 19, 20, 23))
_MAKE_UP_DAYS = frozenset({date(2026, 2, 14), date(2026, 2, 28)})


def _working_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day in _MAKE_UP_DAYS or (day.weekday() < 5 and day not in _HOLIDAYS):
            yield day
        day += timedelta(days=1)


def _staff_unit(staff_id: str) -> str:
    return next(unit for unit, staff in QSB_STAFF.items() if staff_id in staff)


def _attendance_clock() -> Iterator[Envelope]:
    """One report per office and working day from the clock (mode system, in UTC)."""
    exceptions: dict[tuple[date, str], list[dict[str, Any]]] = {}
    for staff_id, days in _CLOCK_EXCEPTIONS.items():
        for month, day_of_month, code in days:
            key = (date(2026, month, day_of_month), _staff_unit(staff_id))
            exceptions.setdefault(key, []).append({"code": code, "staff_id": staff_id})
    working = set(_working_days(_CLOCK_FIRST, _CLOCK_LAST))
    if missing := {day for day, _ in exceptions} - working:
        raise ValueError(f"clock exceptions on days off: {sorted(missing)}")
    for day in sorted(working):
        for unit in QSB_UNITS:
            office = unit.removeprefix("qsb/")
            yield _inspection(
                "attendance",
                f"ATT-{office}-{day:%Y%m%d}",
                datetime(day.year, day.month, day.day, 18, 30),
                unit,
                "system",
                "考勤机",
                exceptions.get((day, unit), []),
                utc=True,
            )


def _bureau_checks() -> Iterator[Envelope]:
    """Efficiency checks (效能督查) of the offices, open and covert."""
    checks: tuple[tuple[str, datetime, str, str, list[dict[str, Any]]], ...] = (
        ("QSBI-2026-01", datetime(2026, 2, 10, 10), "qsb/metrology", "open", []),
        (
            "QSBI-2026-02",
            datetime(2026, 3, 18, 15, 20),
            "qsb/licensing",
            "covert",
            [{"code": "absent_from_post", "staff_id": "E1006", "note": "上班时间离岗外出办私事"}],
        ),
        ("QSBI-2026-03", datetime(2026, 3, 18, 16), "qsb/inspection", "covert", []),
        (
            "QSBI-2026-04",
            datetime(2026, 4, 15, 12, 10),
            "qsb/service-window",
            "covert",
            [
                {"code": "absent_from_post", "unit_wide": True, "note": "午间窗口无人值守"},
                {"code": "chatting_on_duty", "staff_id": "E1023", "note": "串岗聊天"},
            ],
        ),
    )
    for inspection_id, local, unit, mode, findings in checks:
        yield _inspection(
            "inspection-app", inspection_id, local, unit, mode, "效能督查组", findings
        )


def _d(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


# Efficiency complaints (行政效能投诉) of 2026; see DOMAIN.md for what each verdict triggers.
_BUREAU_CASES = (
    # 行政许可科: six warnings in 2026 -> two collective warnings -> leadership accountability
    Case("QSB-2026-001", "qsb/licensing", "E1002", _d(1, 12, 10, 20), "phone",
         "rude_attitude", "study", "办理生产许可证时工作人员态度粗暴，刁难经办人",
         (Verdict(_d(1, 16, 16), "substantiated"),), {"name": "李女士"}),
    Case("QSB-2026-004", "qsb/licensing", "E1005", _d(2, 3, 9, 45), "letter", "bribery",
         "study", "企业来信反映许可审查中索要好处（吃拿卡要）",
         (Verdict(_d(2, 11, 15, 30), "substantiated"),)),
    Case("QSB-2026-007", "qsb/licensing", "E1004", _d(3, 5, 14, 10), "visit",
         "first_inquiry", "approval", "首问责任人未指引办事群众，推诿至其他科室",
         (Verdict(_d(3, 6, 11), "substantiated"),)),
    Case("QSB-2026-009", "qsb/licensing", "E1003", _d(3, 19, 9), "phone", "first_inquiry",
         "approval", "电话咨询被告知找别的科室", (Verdict(_d(3, 20, 10), "unfounded"),)),
    Case("QSB-2026-012", "qsb/licensing", "E1008", _d(4, 8, 10), "referral", "bribery",
         "study", "市纪委转办：许可审查期间接受企业宴请",
         (Verdict(_d(4, 16, 17), "substantiated"),)),
    # 计量科: three warnings -> a collective warning; the third overturned on re-examination
    Case("QSB-2026-005", "qsb/metrology", "E1011", _d(2, 9, 11), "phone", "rude_attitude",
         "study", "计量检定窗口工作人员态度生硬", (Verdict(_d(2, 13, 15), "substantiated"),)),
    Case("QSB-2026-006", "qsb/metrology", "E1009", _d(3, 2, 9), "phone", "disclosure",
         "approval", "未一次性告知检定所需材料，往返三次",
         (Verdict(_d(3, 12, 16), "unfounded"),)),  # resolved late (限时办结: 2 working days)
    Case("QSB-2026-008", "qsb/metrology", "E1012", _d(3, 9, 14), "letter", "ignored_request",
         "study", "多次申请加急检定无人理睬", (Verdict(_d(3, 13, 10), "substantiated"),)),
    Case("QSB-2026-010", "qsb/metrology", "E1013", _d(3, 30, 9, 30), "visit", "bribery",
         "study", "反映检定员收受加油站业主礼品",
         (Verdict(_d(4, 3, 16), "substantiated"), Verdict(_d(5, 12, 10), "unfounded"))),
    # 稽查科: an obstructed investigation; a complaint nobody decided (overdue)
    Case("QSB-2026-002", "qsb/inspection", "E1018", _d(1, 19, 9, 10), "phone", "delay",
         "approval", "举报案件受理后拖延不办", (Verdict(_d(1, 21, 17), "substantiated"),)),
    Case("QSB-2026-011", "qsb/inspection", "E1016", _d(3, 16, 10), "referral", "bribery",
         "study", "12345转办：稽查人员向被查企业索要财物",
         (Verdict(_d(3, 25, 18), "substantiated", obstructed=True),)),
    Case("QSB-2026-013", "qsb/inspection", "E1019", _d(2, 26, 15), "letter",
         "ignored_request", "study", "举报假冒产品后一直无人回复"),
    # 政务服务窗口
    Case("QSB-2026-003", "qsb/service-window", "E1022", _d(1, 7, 10), "visit",
         "rude_attitude", "immediate", "窗口人员说话不耐烦",
         (Verdict(_d(1, 7, 14, 30), "unfounded"),)),
    Case("QSB-2026-014", "qsb/service-window", None, _d(2, 4, 9, 20), "phone", "delay",
         "approval", "营业执照相关证明未按时出具", (Verdict(_d(2, 5, 11), "withdrawn"),)),
)  # fmt: skip
_BUREAU_2025_GROUNDS = (
    ("delay", "办事拖延"),
    ("first_inquiry", "推诿扯皮"),
    ("disclosure", "办事指南不清楚"),
    ("rude_attitude", "态度冷淡"),
)


def _bureau_2025_cases() -> Iterator[Case]:
    """A year earlier: a few complaints a month, nobody named (for 同比)."""
    for month in range(1, 7):
        for position, unit in enumerate(QSB_UNITS):
            if (month + position) % 2:
                continue
            category, summary = _BUREAU_2025_GROUNDS[(month + position // 2) % 4]
            filed = _d(month, 6 + 3 * position, 10, year=2025)
            outcome = "substantiated" if (month + position // 2) % 3 == 0 else "unfounded"
            yield Case(
                f"QSB-2025-{month:02d}{position}",
                unit,
                None,
                filed,
                "phone" if position % 2 else "letter",
                category,
                "approval",
                summary,
                (Verdict(filed + timedelta(days=1), outcome),),
            )


def bureau_history() -> list[Envelope]:
    events = [*_attendance_clock(), *_bureau_checks()]
    for case in (*_bureau_2025_cases(), *_BUREAU_CASES):
        events.extend(_case_events(case, "qsb-efficiency-office", "qsb"))
    events.append(
        _commendation(
            "QSBA-2026-001",
            _d(6, 30, 10),
            "qsb/service-window",
            "E1021",
            "service_award",
            "上半年窗口服务标兵",
        )
    )
    return events


# ------------------------------------------------------------ power-supply service hall

POWER_COMPLAINTS = {
    (2025, 1): 10, (2025, 2): 9, (2025, 9): 9, (2025, 10): 8, (2025, 11): 7,
    (2025, 12): 6, (2026, 1): 4, (2026, 2): 3,
}  # fmt: skip
_POWER_GROUNDS = (
    ("rude_attitude", "营业厅工作人员态度生硬"),
    ("delay", "低压报装申请超期未办理"),
    ("overcharging", "电费计收有误"),
    ("first_inquiry", "咨询时被推诿到其他部门"),
    ("ignored_request", "报修后长时间无人联系"),
    ("disclosure", "未一次性告知办电所需资料"),
)
_POWER_NAMED = {(2025, 10, 0): "P2004", (2025, 12, 2): "P2006", (2026, 1, 0): "P2004"}
_HALL = "power/hall-east"


def _power_outcome(index: int) -> str:
    if index % 10 == 4:
        return "withdrawn"
    return "unfounded" if index % 5 in (1, 3) else "substantiated"


def _power_cases() -> Iterator[Case]:
    for (year, month), count in POWER_COMPLAINTS.items():
        for index in range(count):
            category, summary = _POWER_GROUNDS[index % len(_POWER_GROUNDS)]
            handling = ("approval", "study", "immediate")[index % 3]
            filed = datetime(year, month, 2 + index * 26 // count, 9 + (index * 3) % 9, 5)
            verdict_at = filed + (timedelta(hours=2) if handling == "immediate" else timedelta(1))
            yield Case(
                f"95598-{year}{month:02d}-{index + 1:02d}",
                _HALL,
                _POWER_NAMED.get((year, month, index)),
                filed,
                "web" if index % 4 == 3 else "hotline",
                category,
                handling,
                summary,
                (Verdict(verdict_at, _power_outcome(index)),),
            )


def _hall_checks() -> Iterator[Envelope]:
    """The monthly assessment (每月考核一次) of the hall's service norms."""
    found = {(2025, 10): ("untidy", "P2002"), (2025, 12): ("no_receipt", "P2006")}
    found[(2026, 2)] = ("untidy", "P2005")
    for year, month in ((2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2)):
        finding = found.get((year, month))
        findings = [{"code": finding[0], "staff_id": finding[1]}] if finding else []
        yield _inspection(
            "inspection-app",
            f"PWR-{year}{month:02d}",
            datetime(year, month, 25, 10),
            _HALL,
            "open",
            "营销部考核组",
            findings,
        )


def power_history() -> list[Envelope]:
    events = [*_hall_checks()]
    for case in _power_cases():
        events.extend(_case_events(case, "hotline-95598", "pw"))
    events += [
        _commendation("PWA-2025-11", _d(11, 18, 15, year=2025), _HALL, "P2001",
                      "returned_property", "拾金不昧：归还客户遗落在营业厅的钱包"),
        _commendation("PWA-2025-12", _d(12, 30, 10, year=2025), _HALL, "P2003",
                      "service_award", "年度优质服务标兵"),
        _commendation("PWA-2026-01", _d(1, 15, 11), _HALL, "P2003", "helped_others",
                      "助人为乐：协助行动不便的老人办理过户"),
    ]  # fmt: skip
    return events


# ------------------------------------------------------------------------------ all


def sample_history() -> list[Envelope]:
    """Every event of the sample, in a fixed order (the platform does not need any)."""
    return [*taxi_history(), *bureau_history(), *power_history()]


def sample_units() -> tuple[str, ...]:
    return (*TAXI_UNITS, *QSB_UNITS, *POWER_UNITS)
