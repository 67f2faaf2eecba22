"""Packed columns refuse what they could not split back: a text holding the separator
or the NULL mark, one empty text, an instant without an offset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.assessment.adapters.packed import NULL, SEP, Kind, pack, unnest_packed

pytestmark = pytest.mark.unit


def test_a_column_is_its_values_joined_with_nulls_marked() -> None:
    rows = [
        ("a", 1, True, b"\x01\xff", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        (None, None, False, None, None),
    ]
    kinds: tuple[Kind, ...] = ("text", "int", "bool", "bytea", "timestamptz")

    assert pack(rows, kinds) == [
        f"a{SEP}{NULL}",
        f"1{SEP}{NULL}",
        f"t{SEP}f",
        f"\\x01ff{SEP}{NULL}",
        f"2026-01-02T03:04:05.000006+00:00{SEP}{NULL}",
    ]


def test_no_rows_give_empty_columns() -> None:
    assert pack([], ("text", "int")) == ["", ""]


@pytest.mark.parametrize("text", [f"a{SEP}b", f"a{NULL}", NULL])
def test_a_text_holding_a_reserved_character_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="U\\+001F or U\\+001E"):
        pack([("x",), (text,)], ("text",))


def test_one_empty_text_is_refused_and_several_are_kept() -> None:
    with pytest.raises(ValueError, match="empty text"):
        pack([("",)], ("text",))
    assert pack([("",), ("",)], ("text",)) == [SEP]


def test_an_instant_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        pack([(datetime(2026, 1, 1),)], ("timestamptz",))


def test_the_statement_splits_each_parameter_into_its_type() -> None:
    assert unnest_packed(("text", "bigint"), first=3) == (
        "string_to_array($3, chr(31), chr(30))::text[], "
        "string_to_array($4, chr(31), chr(30))::bigint[]"
    )
