"""Columns of a set-based statement sent as one text each, split by PostgreSQL.

asyncpg encodes an array parameter element by element, and checks each element
against three abstract base classes first (is it itself an array?): 0.3-0.5 µs per
text and 1.3-1.7 µs per instant. A batch's fact and identity inserts carry 25-30
elements per event. Joined in C here and split by `string_to_array` there, a 9-column
row costs 2-3 µs instead of 6.6-6.8 (client CPU; the server's is the same).

A column is its values joined by U+001F, a NULL written as U+001E. Every text that
reaches these columns is a code or matches the contract's id patterns (visible
ASCII), so neither can occur in one; should one ever, packing refuses the batch
rather than store a value split in two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

SEP = "\x1f"  # also joins a warning's or alert's evidence ids within one row
NULL = "\x1e"

Kind = Literal["text", "timestamptz", "int", "bigint", "bool", "bytea"]


def unnest_packed(kinds: Sequence[Kind], first: int = 1) -> str:
    """`unnest(...)`'s arguments for packed parameters $first.. of these kinds."""
    return ", ".join(
        f"string_to_array(${n}, chr(31), chr(30))::{kind}[]"
        for n, kind in enumerate(kinds, start=first)
    )


def pack(rows: Sequence[Sequence[Any]], kinds: Sequence[Kind]) -> list[str]:
    """One text per column of `rows` (tuples in the kinds' order)."""
    if not rows:
        return ["" for _ in kinds]  # string_to_array('') is the empty array
    return [
        _column(list(values), kind)
        for values, kind in zip(zip(*rows, strict=True), kinds, strict=True)
    ]


def _column(values: list[Any], kind: Kind) -> str:
    nulls = values.count(None)
    if kind == "text":
        texts = values if not nulls else [NULL if v is None else v for v in values]
        packed = SEP.join(texts)
        if packed.count(SEP) != len(values) - 1 or packed.count(NULL) != nulls:
            raise ValueError("a text holds U+001F or U+001E, which packed columns reserve")
        if not packed:  # one empty text would read as no element at all
            raise ValueError("an empty text, which a packed column of one row cannot hold")
        return packed
    if kind == "timestamptz":
        if any(v is not None and v.tzinfo is None for v in values):
            # PostgreSQL would read it in the session's zone
            raise ValueError("an instant without an offset")
        return SEP.join([NULL if v is None else v.isoformat() for v in values])
    if kind == "bool":
        return SEP.join([NULL if v is None else ("t" if v else "f") for v in values])
    if kind == "bytea":
        return SEP.join([NULL if v is None else "\\x" + v.hex() for v in values])
    return SEP.join([NULL if v is None else str(int(v)) for v in values])  # int, bigint
