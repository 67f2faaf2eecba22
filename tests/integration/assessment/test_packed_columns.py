"""Packed columns read back in PostgreSQL as the values they were packed from: any
text without the two reserved characters (quotes, backslashes, braces, commas, other
scripts), instants at any offset with or without a fraction, NULLs anywhere."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters.packed import Kind, pack, unnest_packed

pytestmark = pytest.mark.integration

KINDS: tuple[Kind, ...] = ("text", "timestamptz", "int", "bigint", "bool", "bytea", "text")
_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\x1e\x1f"),
    min_size=1,
    max_size=8,
)
_INSTANT = st.builds(
    lambda moment, seconds: moment.replace(tzinfo=timezone(timedelta(seconds=seconds))),
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(9998, 12, 30)),
    st.integers(min_value=-15 * 3600, max_value=15 * 3600).map(lambda s: s - s % 60),
)
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": _TEXT,
    "timestamptz": _INSTANT,
    "int": st.integers(min_value=-(2**31), max_value=2**31 - 1),
    "bigint": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "bool": st.booleans(),
    "bytea": st.binary(max_size=16),
}
_ROWS = st.lists(st.tuples(*(st.none() | _VALUES[kind] for kind in KINDS)), min_size=1, max_size=20)


async def _unpacked(url: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        found = await conn.fetch(
            f"SELECT * FROM unnest({unnest_packed(KINDS)})", *pack(rows, KINDS)
        )
        return [tuple(record) for record in found]
    finally:
        await conn.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_ROWS)
def test_packed_rows_read_back_as_they_were(database_url: str, rows: list[tuple[Any, ...]]) -> None:
    assert asyncio.run(_unpacked(database_url, rows)) == rows  # instants compare as instants
