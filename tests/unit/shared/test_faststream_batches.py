"""The batch parser's safe records: FastStream decodes every header value as UTF-8
before the handler runs, so a record with a value it cannot decode would never reach
it. Such a record is handed on as a copy whose values are safe; the others as they are."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import ConsumerRecord

from shared.faststream_batches import _safe_record

pytestmark = pytest.mark.unit


def record(headers: list[tuple[str, Any]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="events.v1", partition=0, offset=7, timestamp=0, timestamp_type=0,
        key=b"k", value=b"{}", checksum=None, serialized_key_size=1,
        serialized_value_size=2, headers=headers,
    )  # fmt: skip


@pytest.mark.parametrize("headers", [[], [("trace", b"abc"), ("empty", b"")]])
def test_a_record_faststream_can_decode_is_handed_on_as_it_is(
    headers: list[tuple[str, Any]],
) -> None:
    original = record(headers)
    assert _safe_record(original) is original


def test_values_faststream_cannot_decode_are_made_safe_in_a_copy() -> None:
    original = record([("binary", b"\xff\xfe"), ("null", None), ("utf8", "é".encode())])
    safe = _safe_record(original)
    for _, value in safe.headers:
        value.decode()  # what FastStream's parser does: it must not raise
    assert [name for name, _ in safe.headers] == ["binary", "null", "utf8"]
    assert dict(safe.headers)["utf8"] == "é".encode()  # valid UTF-8 is kept as it was
    assert safe.value == original.value
    assert safe.offset == original.offset
    assert original.headers[0] == ("binary", b"\xff\xfe")  # the original is untouched
