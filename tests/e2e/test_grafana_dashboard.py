"""The Grafana dashboard (docs/grafana) names only metrics the running services expose."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.services import RunningServices

pytestmark = pytest.mark.e2e
DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "service-norm.json"
METRIC = re.compile(r"\b(?:intake|assessment)_[a-z0-9_]+\b")
# The series names a family of each type is queried by.
SERIES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "summary": ("_sum", "_count", ""),
}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    found = []
    for panel in dashboard["panels"]:
        found += [target["expr"] for target in panel.get("targets", [])]
    return found


def exposed(text: str) -> set[str]:
    """Every series name /metrics offers, also for a family with no sample yet (a
    labelled counter nothing has incremented)."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SERIES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


async def test_every_metric_the_grafana_dashboard_names_is_on_metrics(
    services: RunningServices,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    named = {m for e in expressions(dashboard) for m in METRIC.findall(e)}
    assert {
        "intake_http_request_seconds_bucket",
        "assessment_http_request_seconds_bucket",
        "intake_events_accepted_total",
        "assessment_records_total",
        "assessment_partition_lag_records",
        "assessment_deadletters_total",
    } <= named
    available: set[str] = set()
    async with httpx.AsyncClient(timeout=30) as client:
        for base in (services.intake_url, services.assessment_url):
            answer = await client.get(f"{base}/metrics")
            assert answer.status_code == 200
            available |= exposed(answer.text)
    missing = sorted(named - available)
    assert not missing, f"the dashboard names metrics no service exposes: {missing}"


async def test_http_latency_is_recorded_by_route_template(services: RunningServices) -> None:
    async with services.api() as api:
        assert (await api.get("/v1/units/qsb%2Flicensing/alerts")).status_code == 200
        text = (await api.get("/metrics")).text
    async with httpx.AsyncClient(timeout=30) as client:
        await client.get(f"{services.intake_url}/healthz")
        intake = (await client.get(f"{services.intake_url}/metrics")).text
    assert 'route="/v1/units/{unit_id:path}/alerts",status="200"' in text
    assert "qsb" not in "".join(line for line in text.splitlines() if "route=" in line)
    assert 'intake_http_request_seconds_count{route="/healthz",status="200"}' in intake
