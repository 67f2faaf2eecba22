"""Folding that nothing on the log can stop.

Failures of the environment (the database unreachable, a serialization failure, a
timeout) are raised to the caller, which retries the batch with backoff, without end.
Any other failure is a failure of content the decoder did not foresee (a rule error,
a value the database refuses): the batch is split in halves, each folded in its own
transaction, until the record is isolated; a record that fails alone `attempts`
times is parked as `fold_error` and the rest goes on. Halves keep log order per
partition, so positions only move forward.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence

from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded

log = logging.getLogger(__name__)

Position = tuple[str, int, int]
# Folds records in one transaction; `failed` are records to park as fold_error unread.
FoldOnce = Callable[[Sequence[Record], Mapping[Position, str]], Awaitable[Folded]]
IsEnvironment = Callable[[BaseException], bool]


class IsolatingFold:
    def __init__(
        self,
        fold_once: FoldOnce,
        *,
        is_environment: IsEnvironment,
        attempts: int = 3,
        pause_s: float = 0.05,
        on_poison_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._fold_once = fold_once
        self._is_environment = is_environment
        self._attempts = attempts
        self._pause_s = pause_s
        self._on_poison_failure = on_poison_failure

    async def __call__(self, records: Sequence[Record]) -> Folded:
        ordered = sorted(records, key=lambda r: r.position)
        return await self._attempt(ordered)

    async def _attempt(self, records: Sequence[Record]) -> Folded:
        try:
            return await self._fold_once(records, {})
        except Exception as error:
            if self._is_environment(error):
                raise
            self._on_poison_failure()
            log.warning("folding %d records failed (%r); isolating", len(records), error)
        if len(records) == 1:
            return await self._alone(records[0])
        middle = len(records) // 2
        return await self._attempt(records[:middle]) + await self._attempt(records[middle:])

    async def _alone(self, record: Record) -> Folded:
        error_text = ""
        for attempt in range(2, self._attempts + 1):  # the first attempt already failed
            await asyncio.sleep(self._pause_s * attempt)
            try:
                return await self._fold_once([record], {})
            except Exception as error:
                if self._is_environment(error):
                    raise
                self._on_poison_failure()
                error_text = "".join(traceback.format_exception_only(error)).strip()
        log.error("%s failed alone %d times; parking it as fold_error", record.origin,
                  self._attempts)  # fmt: skip
        return await self._fold_once([record], {record.position: error_text or "failed"})
