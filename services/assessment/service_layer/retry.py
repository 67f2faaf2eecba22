"""Fold parked records of events.v1 again, after a code or policy fix.

Each record is folded on its own in a live write transaction (the consumer waits on
the writer lock meanwhile), without the position check (its position was passed when
it was parked) but with every other check: identity across types makes a record that
now folds count once, never twice, whatever copies were folded since.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import WriteTransaction, fold


class RetryTransaction(WriteTransaction, Protocol):
    async def mark_retried(self, record: Record, outcome: str) -> None: ...


OpenTransaction = Callable[[], AbstractAsyncContextManager[RetryTransaction]]


@dataclass(frozen=True, slots=True)
class RetryReport:
    records: int
    outcomes: dict[str, int]  # folded | duplicate (it stood already) | still_parked


async def retry_parked(
    records: Sequence[Record],
    open_tx: OpenTransaction,
    on_progress: Callable[[int], None] = lambda _: None,
) -> RetryReport:
    outcomes: Counter[str] = Counter()
    for done, record in enumerate(records, start=1):
        async with open_tx() as tx:
            folded = await fold(tx, [record], skip_folded=False)
            if folded.poison or folded.conflicts:
                outcome = "still_parked"
            elif folded.new_events:
                outcome = "folded"
            else:
                outcome = "duplicate"
            await tx.mark_retried(record, outcome)
        outcomes[outcome] += 1
        on_progress(done)
    return RetryReport(len(records), dict(outcomes))
