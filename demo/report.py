"""Wait for the assessment to fold the sample, then print what its API answers.

Every figure shown comes from the assessment API; the only arithmetic here is adding up
the taxi fleets into the company (the API has no roll-up of units) and that sum's change.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Column, Table

from demo.client import DemoError, get_all, get_json, path_segment
from demo.sample_history import (
    OVERDUE_AS_OF,
    POWER_UNITS,
    QSB_UNITS,
    SCORECARD_STAFF,
    TAXI_UNITS,
    UNIT_NAMES,
    WATCHLIST_AS_OF,
    sample_units,
)
from shared.catalogue import COMMENDATION_WORDING, FINDING_WORDING, CommendationKind, FindingCode

Json = dict[str, Any]
SHANGHAI = ZoneInfo("Asia/Shanghai")
TAXI_MONTHS = ("2026-01", "2026-02")  # the seed's "前2个月"
QSB_MONTHS = ("2026-01", "2026-06")
POWER_MONTHS = ("2025-09", "2026-02")
SCORECARD_MONTHS = 6  # January to June
RULE_LABELS = {
    "attendance": "迟到早退",
    "absence_from_post": "擅离岗位",
    "time_limit": "拖延不办",
    "first_inquiry": "首问不尽职",
    "rude_attitude": "态度粗暴",
    "bribery": "吃拿卡要",
    "abuse_of_power": "假公济私",
    "retaliation": "打击报复",
    "other_dereliction": "其他失职",
    "accumulated_warnings": "累计告诫",
    "obstruction": "干扰调查",
    "unit_wide_violation": "整体违规",
    "leadership_accountability": "领导责任",
}
STATUS_STYLE = {"active": "[red]active 有效[/red]", "revoked": "[dim]revoked 已撤销[/dim]"}


# ------------------------------------------------------------------------ waiting


def wait_until_projected(
    api: httpx.Client,
    *,
    timeout: float,
    console: Console,
    poll: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Json:
    """Poll /v1/status until every partition's position reaches the end offset it had
    right after sending (so everything sent is folded); returns that status."""
    deadline = time.monotonic() + timeout
    targets: dict[int, int] | None = None
    with console.status("Waiting for the assessment service to fold the events …") as spinner:
        while True:
            status: Json = get_json(api, "/v1/status")
            targets = targets or end_offsets(status)
            if targets is not None:
                behind = records_behind(status, targets)
                if behind == 0:
                    return status
                spinner.update(f"Assessment is folding the events: {behind} records to go …")
            if time.monotonic() > deadline:
                raise DemoError(
                    f"The assessment service has not caught up after {timeout:.0f} s "
                    f"(lag {status.get('lag')}). It may still be starting: run the demo again "
                    "(resending is harmless), or see .stack/logs/assessment.log."
                )
            sleep(poll)


def end_offsets(status: Json) -> dict[int, int] | None:
    """Each partition's end offset, or None while any is unknown."""
    partitions = status.get("partitions") or []
    if not partitions or any(p["end_offset"] is None for p in partitions):
        return None
    return {int(p["partition"]): int(p["end_offset"]) for p in partitions}


def records_behind(status: Json, targets: dict[int, int]) -> int:
    positions = {int(p["partition"]): p["position"] for p in status["partitions"]}
    behind = 0
    for partition, target in targets.items():
        position = positions.get(partition)
        folded = 0 if position is None else int(position) + 1
        behind += max(0, target - folded)
    return behind


# ------------------------------------------------------------------------ helpers


def local_time(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def pct_change(current: int, base: int) -> float | None:
    return None if base == 0 else round((current - base) / base * 100, 1)


def unit_label(unit_id: str) -> str:
    name = UNIT_NAMES.get(unit_id)
    return f"{unit_id} {name}" if name else unit_id


def rule_label(rule: str) -> str:
    return f"{rule} {RULE_LABELS.get(rule, '')}".rstrip()


def rule_short(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def status_text(item: Json) -> str:
    status = str(item["status"])
    text = STATUS_STYLE.get(status, status)
    if item.get("revoked_at"):
        text += f" {local_time(item['revoked_at'])}"
    return text


def counts_text(counts: dict[str, int], labels: Callable[[str], str], sep: str = ", ") -> str:
    return sep.join(f"{labels(key)} {n}" for key, n in sorted(counts.items())) or "—"


def finding_label(code: str) -> str:
    return FINDING_WORDING.get(FindingCode(code), code)


def kind_label(kind: str) -> str:
    return COMMENDATION_WORDING.get(CommendationKind(kind), kind)


def stats(api: httpx.Client, unit_id: str, first: str, last: str) -> dict[str, Json]:
    answer = get_json(api, f"/v1/units/{path_segment(unit_id)}/stats", {"from": first, "to": last})
    return {month["month"]: month for month in answer["months"]}


def sum_counts(dicts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for counts in dicts:
        total.update(counts)
    return dict(total)


# ----------------------------------------------------------------------- sections


def warnings_section(api: httpx.Client, console: Console, units: Sequence[str]) -> None:
    console.rule("[bold](a) Individual efficiency warnings 个人效能告诫 — by unit")
    table = Table("Unit 单位", "Active 有效", "Revoked 已撤销", "Active by rule 按规则")
    detail: list[Json] = []
    for unit in units:
        items = get_all(api, "/v1/warnings", {"unit_id": unit, "status": "all"})
        active = [w for w in items if w["status"] == "active"]
        by_rule = Counter(w["rule"] for w in active)
        table.add_row(
            unit_label(unit),
            str(len(active)),
            str(len(items) - len(active)),
            counts_text(dict(by_rule), rule_short),
        )
        if unit in QSB_UNITS:
            detail += items
    console.print(table)
    bureau = Table(
        "Staff 人员", "Unit 科室", "Rule 规则", "Period", "Issued 告诫时间", "Status 状态",
        title="The bureau's warnings 质监局效能告诫明细",
    )  # fmt: skip
    for w in sorted(detail, key=lambda w: (w["issued_at"], w["id"])):
        bureau.add_row(
            w["staff_id"],
            w["unit_id"],
            rule_label(w["rule"]),
            w["period"],
            local_time(w["issued_at"]),
            status_text(w),
        )
    console.print(bureau)


def alerts_section(api: httpx.Client, console: Console, units: Sequence[str]) -> None:
    console.rule("[bold](b) Collective warnings and leadership accountability 集体告诫与领导责任")
    table = Table(
        "Unit 单位", "Rule 规则", "Level", "Year", "Issued 下达", "Status 状态", "Evidence"
    )
    for unit in units:
        for alert in get_all(api, "/v1/alerts", {"unit_id": unit, "status": "all"}):
            table.add_row(
                unit_label(alert["unit_id"]),
                rule_label(alert["rule"]),
                alert["level"],
                str(alert["year"]),
                local_time(alert["issued_at"]),
                status_text(alert),
                f"{len(alert['evidence'])} ids",
            )
    if not table.row_count:
        console.print("No unit alerts for the sample's units.")
        return
    console.print(table)


def taxi_section(api: httpx.Client, console: Console) -> None:
    console.rule("[bold](c) Taxi company: monthly trend 出租车公司月度投诉与好人好事")
    base = [_year_before(month) for month in TAXI_MONTHS]
    by_fleet = {unit: stats(api, unit, base[0], TAXI_MONTHS[-1]) for unit in TAXI_UNITS}
    table = Table(
        "Month", "Unit 单位", "Filed 受理投诉", "同比 yoy", "环比 mom", "Subst. 属实",
        "Unfounded 不实", "Good deeds 好人好事",
    )  # fmt: skip
    for month in TAXI_MONTHS:
        for unit in TAXI_UNITS:
            m = by_fleet[unit][month]
            change = m["change"]["complaints_filed"]
            table.add_row(
                month, unit_label(unit), str(m["complaints_filed"]), pct(change["yoy"]),
                pct(change["mom"]), str(m["complaints_substantiated"]),
                str(m["complaints_unfounded"]), str(m["commendations"]),
            )  # fmt: skip
        now = sum(by_fleet[u][month]["complaints_filed"] for u in TAXI_UNITS)
        before = sum(by_fleet[u][_year_before(month)]["complaints_filed"] for u in TAXI_UNITS)
        previous = _previous(month)
        last = sum(by_fleet[u][previous]["complaints_filed"] for u in TAXI_UNITS)
        table.add_row(
            f"[bold]{month}",
            "[bold]company 全公司 (Σ fleets)",
            f"[bold]{now}",
            f"[bold]{pct(pct_change(now, before))}",
            pct(pct_change(now, last)) if previous in by_fleet[TAXI_UNITS[0]] else "—",
            str(sum(by_fleet[u][month]["complaints_substantiated"] for u in TAXI_UNITS)),
            str(sum(by_fleet[u][month]["complaints_unfounded"] for u in TAXI_UNITS)),
            f"[bold]{sum(by_fleet[u][month]['commendations'] for u in TAXI_UNITS)}",
            end_section=True,
        )
    console.print(table)
    _taxi_summary(console, by_fleet, base)


def _taxi_summary(console: Console, by_fleet: dict[str, dict[str, Json]], base: list[str]) -> None:
    def total(months: Sequence[str], key: str) -> int:
        return sum(by_fleet[u][m][key] for u in TAXI_UNITS for m in months)

    def detail(months: Sequence[str], key: str) -> dict[str, int]:
        return sum_counts(by_fleet[u][m][key] for u in TAXI_UNITS for m in months)

    now, before = total(TAXI_MONTHS, "complaints_filed"), total(base, "complaints_filed")
    period = f"{TAXI_MONTHS[0]}…{TAXI_MONTHS[-1]}"
    console.print(
        f"{period}: [bold]{now}[/bold] valid complaints 有效投诉 against {before} a year "
        f"before — 同比 [bold]{pct(pct_change(now, before))}[/bold]"
    )
    console.print(
        f"Good deeds 好人好事: [bold]{total(TAXI_MONTHS, 'commendations')}[/bold] — "
        + counts_text(detail(TAXI_MONTHS, "commendations_by_kind"), kind_label)
    )
    for label, months in (("this year 今年", TAXI_MONTHS), ("a year before 去年同期", base)):
        console.print(
            f"Checks 明查暗访 {label}: {total(months, 'inspections')} "
            f"({total(months, 'clean_inspections')} clean 无违章); findings 违章 "
            f"{total(months, 'findings')}: "
            + counts_text(detail(months, "findings_by_code"), finding_label)
        )


def _year_before(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def _previous(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


MONTH_FIGURES = (
    "complaints_filed", "complaints_substantiated", "complaints_unfounded",
    "complaints_withdrawn", "complaints_overdue", "complaints_resolved_late",
    "findings", "warnings", "collective_warnings", "commendations",
)  # fmt: skip


def months_section(
    api: httpx.Client, console: Console, title: str, units: Sequence[str], span: tuple[str, str]
) -> None:
    """One row per unit and month with anything besides routine clock checks."""
    fixed = [
        Column(header, no_wrap=True)
        for header in (
            "Month", "Filed 受理\n(同比/环比)", "属实/不实/撤回\nsubst/unf/wd",
            "超期/逾期\noverdue/late", "Checks 检查\n(clean)",
        )
    ]  # fmt: skip
    table = Table(
        Column("Unit 单位", no_wrap=True), *fixed, Column("Findings 问题", overflow="fold"),
        Column("Warnings 告诫", overflow="fold"),
        Column("Coll.\n集体", no_wrap=True), Column("Comm.\n表彰", no_wrap=True), title=title,
    )  # fmt: skip
    for unit in units:
        rows = [(month, m) for month, m in stats(api, unit, *span).items()]
        shown = [(month, m) for month, m in rows if any(m[key] for key in MONTH_FIGURES)]
        for number, (month, m) in enumerate(shown, start=1):
            change = m["change"]["complaints_filed"]
            table.add_row(
                f"{unit}\n{UNIT_NAMES.get(unit, '')}" if number == 1 else "", month,
                f"{m['complaints_filed']} ({pct(change['yoy'])}/{pct(change['mom'])})",
                f"{m['complaints_substantiated']}/{m['complaints_unfounded']}/"
                f"{m['complaints_withdrawn']}",
                f"{m['complaints_overdue']}/{m['complaints_resolved_late']}",
                f"{m['inspections']} ({m['clean_inspections']})",
                counts_text(m["findings_by_code"], finding_label, "\n"),
                counts_text(m["warnings_by_rule"], rule_short, "\n"),
                str(m["collective_warnings"]), str(m["commendations"]),
                end_section=number == len(shown),
            )  # fmt: skip
    console.print(table)


def watch_section(api: httpx.Client, console: Console, units: Sequence[str]) -> None:
    console.rule("[bold](d) Early warnings 预警 and overdue complaints 超期未办结")
    watch = get_json(api, "/v1/watchlist", {"as_of": WATCHLIST_AS_OF})
    staff = Table(
        "Staff 人员", "Unit 单位", "Month", "Attendance findings 迟到早退", "Warned at 第N次告诫",
        title=f"Watchlist 预警名单 as of {local_time(WATCHLIST_AS_OF)} — staff",
    )  # fmt: skip
    for row in watch["staff"]:
        if row["unit_id"] in units:
            staff.add_row(
                row["staff_id"], unit_label(row["unit_id"]), row["month"],
                str(row["attendance_findings"]), str(row["warning_at"]),
            )  # fmt: skip
    offices = Table(
        "Unit 单位", "Year", "Active warnings 有效告诫", "Collective at 第N次集体告诫",
        title="— units one warning short of a collective warning 差一次即集体告诫",
    )  # fmt: skip
    for row in watch["units"]:
        if row["unit_id"] in units:
            offices.add_row(
                unit_label(row["unit_id"]), str(row["year"]), str(row["active_warnings"]),
                str(row["collective_warning_at"]),
            )  # fmt: skip
    console.print(staff, offices)
    overdue = get_all(api, "/v1/complaints/overdue", {"as_of": OVERDUE_AS_OF})
    table = Table(
        "Complaint 投诉", "Unit 单位", "Staff", "Handling 时限", "Filed 受理", "Due before 期限",
        "Then 后来", title=f"Overdue complaints 超期未办结 as of {local_time(OVERDUE_AS_OF)}",
    )  # fmt: skip
    for row in overdue:
        if row["unit_id"] not in units:
            continue
        later = row.get("resolved_at")
        table.add_row(
            row["complaint_id"], unit_label(row["unit_id"]), row.get("staff_id") or "—",
            row["handling"], local_time(row["filed_at"]), local_time(row["deadline"]),
            f"resolved late 逾期办结 {local_time(later)}" if later else "[red]still open 仍未办结",
        )  # fmt: skip
    console.print(table)


def scorecards_section(api: httpx.Client, console: Console) -> None:
    console.rule("[bold](e) Scorecards 星级服务 (monthly score and stars)")
    months = [f"{n}月" for n in range(1, SCORECARD_MONTHS + 1)]
    table = Table("Staff 人员", "Role", *months, "Year 全年 W/C/F/K", "评优 award")
    for staff_id, year, role in SCORECARD_STAFF:
        card = get_json(api, f"/v1/staff/{path_segment(staff_id)}/scorecard", {"year": year})
        cells = [f"{'★' * m['stars']}\n{m['score']}" for m in card["months"][:SCORECARD_MONTHS]]
        totals = card["totals"]
        year_text = (
            f"{totals['warnings']}/{totals['substantiated_complaints']}/"
            f"{totals['findings']}/{totals['commendations']}"
        )
        eligible = "[green]yes 可评优" if card["award_eligible"] else "[red]no 不可评优"
        table.add_row(f"{staff_id} ({year})", role, *cells, year_text, eligible)
    console.print(table)
    console.print(
        "W/C/F/K = warnings 告诫 / substantiated complaints 属实投诉 / findings 检查问题 / "
        "commendations 表彰; award eligibility needs a year without an active warning."
    )


def how_to_query(console: Console, *, assessment_url: str, intake_url: str, token: str) -> None:
    base = assessment_url.rstrip("/")
    header = f"-H 'Authorization: Bearer {token}'"
    examples = [
        f"curl -s {header} '{base}/v1/units/qsb%2Flicensing/alerts?year=2026&status=all'",
        f"curl -s {header} '{base}/v1/units/taxi-co%2Ffleet-1/stats?from=2026-01&to=2026-02'",
        f"curl -s {header} '{base}/v1/staff/E1013/warnings?status=all'",
    ]
    console.print(
        Panel(
            "\n".join(
                [
                    "Query it yourself 自行查询:",
                    *examples,
                    "",
                    f"API docs: {base}/docs (assessment)   {intake_url.rstrip('/')}/docs (intake)",
                    "Stop the stack: make down   (events are kept; `make demo` again is "
                    "harmless: the same events are deduplicated)",
                ]
            ),
            title="Next",
            expand=False,
        )
    )


def render_report(
    api: httpx.Client,
    console: Console,
    *,
    status: Json,
    sent: int,
    assessment_url: str,
    intake_url: str,
    token_hint: str,
) -> None:
    console.print(
        Panel(
            f"{sent} events sent 已发送; projection version {status['projection_version']}, "
            f"policy {status['policy_version']}, lag {status['lag']}.\n"
            "Times are shown in Asia/Shanghai.",
            title="优质服务常态化 — what the assessment found in the sample history",
            expand=False,
        )
    )
    units = sample_units()
    warnings_section(api, console, units)
    alerts_section(api, console, units)
    taxi_section(api, console)
    months_section(api, console, "Quality-supervision bureau 质监局 (monthly)", QSB_UNITS,
                   QSB_MONTHS)  # fmt: skip
    months_section(api, console, "Power service hall 供电营业厅 (monthly, 每月考核)",
                   POWER_UNITS, POWER_MONTHS)  # fmt: skip
    watch_section(api, console, units)
    scorecards_section(api, console)
    how_to_query(console, assessment_url=assessment_url, intake_url=intake_url, token=token_hint)
