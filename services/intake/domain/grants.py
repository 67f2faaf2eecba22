"""Bearer tokens and the sources each may send for (CONTRACT.md).

Tokens are configured as digests (`shared.tokens`); several may grant the same
sources, so that a token can be rotated: add the new digest, hand out the new token,
remove the old digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shared.tokens import DigestMatcher


@dataclass(frozen=True, slots=True)
class Grant:
    """What one token may do: send events for `sources`, or for any source when None.

    `digest` names the token (for its rate limit) without being a secret."""

    digest: str
    sources: frozenset[str] | None

    def allows(self, source: str) -> bool:
        return self.sources is None or source in self.sources


@dataclass(frozen=True, slots=True)
class ForbiddenSource:
    index: int
    source: str


class TokenRegistry:
    """Finds a presented token's grant by comparing its digest with every configured
    one in constant time (`DigestMatcher`)."""

    def __init__(self, grants: Mapping[str, Sequence[str] | Literal["*"]]) -> None:
        """`grants`: digest (`sha256:<hex>`) -> the sources it may send for, or "*"."""
        self._matcher = DigestMatcher(
            (digest, Grant(digest, None if sources == "*" else frozenset(sources)))
            for digest, sources in grants.items()
        )

    def lookup(self, token: str) -> Grant | None:
        return self._matcher.match(token)


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
