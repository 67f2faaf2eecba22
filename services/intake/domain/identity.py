"""(source, id) names one event: a reuse with other content is a conflict (409).

Intake tells what it can tell cheaply: two events of one request, or an event whose
pair it accepted recently with other content (a bounded cache of recent pairs and
their content digests, per process). Anything it cannot see (another instance, an
older acceptance) the assessment guards: it parks the later copy as
`conflicting_duplicate`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from shared.events import Event, content_digest

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Conflict:
    index: int
    source: str
    id: str
    reason: str  # "in_request" | "recently_accepted"

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "source": self.source, "id": self.id, "reason": self.reason}


class RecentIds:
    """The digests of the most recently accepted pairs (least recently seen evicted)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._digests: OrderedDict[Key, bytes] = OrderedDict()

    def conflicts(self, events: Sequence[Event]) -> list[Conflict]:
        """Events that reuse a pair with other content: earlier in the same request, or
        recently accepted."""
        found: list[Conflict] = []
        in_request: dict[Key, bytes] = {}
        for index, event in enumerate(events):
            key, digest = event.key, content_digest(event)
            first = in_request.setdefault(key, digest)
            if first != digest:
                found.append(Conflict(index, event.source, event.id, "in_request"))
                continue
            known = self._digests.get(key)
            if known is not None and known != digest:
                found.append(Conflict(index, event.source, event.id, "recently_accepted"))
        return found

    def remember(self, events: Sequence[Event]) -> None:
        """After Kafka acknowledged them: the first digest of a pair stays."""
        for event in events:
            key = event.key
            if key in self._digests:
                self._digests.move_to_end(key)
                continue
            self._digests[key] = content_digest(event)
            if len(self._digests) > self._capacity:
                self._digests.popitem(last=False)
