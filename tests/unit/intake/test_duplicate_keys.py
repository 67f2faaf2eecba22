"""The cheap duplicate-key test agrees with a full parse that looks at every object,
for any JSON text: keys and strings full of colons, quotes and escapes included."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.validation import BodyError, check_unique_keys

pytestmark = pytest.mark.unit

# Objects are lists of (key, value) pairs, so that a key may occur twice.
texts = st.text(alphabet=st.sampled_from(list('ab:"\\/ {}[],é中\n')), max_size=6)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), texts)


class Obj(list[tuple[str, Any]]):
    pass


keys = st.sampled_from(["a", "b", "a:b", '"', "id"]) | texts  # few keys: repeats are common
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(keys, inner), max_size=4).map(Obj),
    ),
    max_leaves=20,
)


def string(text: str, *, ascii_only: bool, escape_colons: bool) -> str:
    written = json.dumps(text, ensure_ascii=ascii_only)
    return written.replace(":", "\\u003a") if escape_colons else written


def write(value: Any, **style: bool) -> str:
    if isinstance(value, Obj):
        pairs = (f"{string(k, **style)} : {write(v, **style)}" for k, v in value)
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(write(v, **style) for v in value) + "]"
    if isinstance(value, str):
        return string(value, **style)
    return json.dumps(value)


def repeats_a_key(value: Any) -> bool:
    if isinstance(value, Obj):
        keys = [k for k, _ in value]
        return len(keys) != len(set(keys)) or any(repeats_a_key(v) for _, v in value)
    if isinstance(value, list):
        return any(repeats_a_key(v) for v in value)
    return False


@given(document=values, ascii_only=st.booleans(), escape_colons=st.booleans())
def test_a_repeated_key_is_found_exactly_when_there_is_one(
    document: Any, ascii_only: bool, escape_colons: bool
) -> None:
    body = write(document, ascii_only=ascii_only, escape_colons=escape_colons).encode()

    if repeats_a_key(document):
        with pytest.raises(BodyError, match="appears twice") as raised:
            check_unique_keys(body, orjson.loads(body))
        assert raised.value.code == "duplicate_key"
    else:
        check_unique_keys(body, orjson.loads(body))  # raises nothing
