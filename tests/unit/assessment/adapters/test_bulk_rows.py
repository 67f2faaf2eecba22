"""The rebuild's decode worker builds its table rows straight from the msgspec Structs.
Over generated chunks — valid events in the canonical form and in other spellings only
the pydantic contract reads, repeated copies (retries with another `recorded_at`,
partition or offset), conflicting copies (same source and id, other content) and
poison — its rows are those of the incremental path: `facts_from_events` and
`fact_rows` of the contract's events, one identity per (source, id) (the copy first in
the total order), each key's facts from its first copy, and the conflicts and poison
counted alike. Instants travel as text to PostgreSQL; here they are read back as
PostgreSQL reads the canonical form (the round trip on the real database is
tests/integration/assessment/test_bulk_load.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters.bulk_decode import TABLES, table_rows
from services.assessment.adapters.projection_rows import fact_rows
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.records import decode_value, decode_value_fast, store_problem
from shared.events import Event, content_digest
from tests.support.events import events, inspection_recorded, to_json

pytestmark = pytest.mark.unit

ZONES = ("Asia/Shanghai", "UTC", "Asia/Kathmandu", "America/Santiago")
RECORDED_AT = (
    "2026-11-01T00:00:00Z",
    "2026-11-01T08:00:00.123456+08:00",
    "2026-10-31T23:59:59.5-05:00",
    "2026-11-01t00:00:00z",  # legal, not canonical: only pydantic reads it
)


recorded_ats = st.sampled_from(RECORDED_AT)


@st.composite
def chunks(draw: st.DrawFn) -> list[bytes]:
    originals = [to_json(e) for e in draw(st.lists(events(), min_size=1, max_size=12))]
    values: list[bytes] = []
    for event in originals:
        event["recorded_at"] = draw(recorded_ats)
        values.append(orjson.dumps(event))
        retries = draw(st.lists(recorded_ats, max_size=2))  # the same event recorded again
        values.extend(orjson.dumps({**event, "recorded_at": at}) for at in retries)
        if draw(st.booleans()) and draw(st.booleans()):  # the pair reused, other content
            other = to_json(draw(events()))
            pair = {"id": event["id"], "source": event["source"]}
            values.append(orjson.dumps({**other, **pair, "recorded_at": draw(recorded_ats)}))
    first = originals[0]
    poison = [
        b"",
        b"{not json",
        orjson.dumps({**first, "occurred_at": "1999-01-01T00:00:00Z"}),  # invalid
        orjson.dumps(
            {**first, "id": "p-1", "recorded_at": "0001-01-01T00:30:00+01:00"}
        ),  # unstorable
    ]
    values += draw(st.lists(st.sampled_from(poison), max_size=2))
    return draw(st.permutations(values))


def expected_rows(values: list[bytes], zone: str) -> tuple[dict[str, list[Any]], set[Any], int]:
    """What the incremental path stores for this chunk, through the pydantic contract."""
    copies: dict[tuple[str, str], list[tuple[Event, int]]] = {}
    poison = 0
    for offset, value in enumerate(values):
        event = decode_value(value, "1")
        if isinstance(event, tuple) or store_problem(event) is not None:
            poison += 1
            continue
        copies.setdefault((event.source, event.id), []).append((event, offset))
    firsts = [group[0][0] for group in copies.values()]
    rows: dict[str, list[Any]] = dict(fact_rows(facts_from_events(firsts), ZoneInfo(zone)))
    rows["event_ids"] = []
    conflicts = set()
    for key, group in copies.items():
        event, offset = min(group, key=lambda copy: (copy[0].recorded_at, 0, copy[1]))
        assert event.recorded_at is not None
        rows["event_ids"].append(
            (*key, "\\x" + content_digest(event).hex(), event.recorded_at, 0, offset)
        )
        if len({content_digest(e) for e, _ in group}) > 1:
            conflicts.add(key)
    return rows, conflicts, poison


def as_postgres_reads(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Canonical instants are sent as text, which timestamptz reads to this datetime."""
    return tuple(
        datetime.fromisoformat(v) if isinstance(v, str) and len(v) >= 20 and v[10] == "T" else v
        for v in row
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=chunks(), zone=st.sampled_from(ZONES))
def test_rows_from_the_structs_are_the_incremental_paths_rows(
    values: list[bytes], zone: str
) -> None:
    decoded = [decode_value_fast(value, "1") for value in values]
    got = table_rows(decoded, [(0, offset) for offset in range(len(values))], zone)
    rows, conflicts, poison = expected_rows(values, zone)

    for table in TABLES:
        assert [as_postgres_reads(r) for r in got[table]] == rows[table], table
    assert got.conflicts == conflicts
    assert got.poison == poison


def test_the_canonical_form_takes_the_structs_path() -> None:
    """So that the property above compares the Structs' rows, not pydantic's twice."""
    for recorded_at in RECORDED_AT[:3]:
        value = orjson.dumps({**to_json(inspection_recorded()), "recorded_at": recorded_at})
        assert isinstance(decode_value_fast(value, "1"), msgspec.Struct)
