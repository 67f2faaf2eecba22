"""Bearer tokens and the sources each may send for (CONTRACT.md)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Grant:
    """What one token may do: send events for `sources`, or for any source when None."""

    sources: frozenset[str] | None

    def allows(self, source: str) -> bool:
        return self.sources is None or source in self.sources


@dataclass(frozen=True, slots=True)
class ForbiddenSource:
    index: int
    source: str


class TokenRegistry:
    """Looks tokens up in constant time per configured token (no early exit on a match)."""

    def __init__(self, grants: Mapping[str, Sequence[str] | Literal["*"]]) -> None:
        self._grants = [
            (token.encode(), Grant(None if sources == "*" else frozenset(sources)))
            for token, sources in grants.items()
        ]

    def lookup(self, token: str) -> Grant | None:
        candidate = token.encode()
        found: Grant | None = None
        for known, grant in self._grants:
            if hmac.compare_digest(known, candidate):
                found = grant
        return found


def forbidden_sources(items: Sequence[object], grant: Grant) -> list[ForbiddenSource]:
    """Events (still raw JSON objects) whose `source` the grant does not cover.

    Items without a string `source` are left to validation, which reports them.
    """
    if grant.sources is None:
        return []
    forbidden: list[ForbiddenSource] = []
    for index, item in enumerate(items):
        source = item.get("source") if isinstance(item, dict) else None
        if isinstance(source, str) and not grant.allows(source):
            forbidden.append(ForbiddenSource(index=index, source=source))
    return forbidden
