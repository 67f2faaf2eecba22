"""The full rebuild's fast path: load every fact, then evaluate every scope once.

The incremental projector re-evaluates a scope each time a batch touches it; over a
whole history that repeats work and churns rows. A new version has no readers, so
the rebuild instead (1) loads all facts — Kafka reads and decoding overlap with the
database's inserts — and (2) streams the facts back ordered by scope and evaluates
each scope exactly once with the same pure rules, writing results by COPY. The
result equals the incremental fold (tests compare the two), and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.inspections import (
    evaluate_absence,
    evaluate_attendance,
    evaluate_unit_wide,
)
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Poison, decode_checked
from services.assessment.domain.unit_alerts import evaluate_unit_year
from services.assessment.service_layer.rebuild_ports import (
    STAGES,
    WHOLE,
    DecodeChunk,
    DecodedChunk,
    Decoding,
    Evaluating,
    EvaluationStore,
    FactSnapshot,
    HistoryReader,
    Part,
    RebuildStore,
    RecordColumns,
    ResultSink,
    ScopeFacts,
    Version,
)

# Decoding is the rebuild's heaviest CPU work. One worker per core: this process
# (Kafka reads, COPY) and the database are only partly busy while they decode.
# Measured on 2 cores, 200k events: load phase 13.5 s with one worker, 10.6-12.9 s with two.
REBUILD_WORKERS = max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Loaded:
    positions: dict[int, int]
    poison: int
    conflicts: set[tuple[str, str]]  # (source, id) pairs seen with different contents


@dataclass(frozen=True, slots=True)
class _Loaded:
    records: RecordColumns
    chunk: DecodedChunk


def start_workers(
    initializer: Callable[[], None], workers: int, *, forked: bool = False
) -> ProcessPoolExecutor:
    """`workers` processes, each started at once (a submit starts a worker only when none
    is idle). Spawned, each imports its modules, most of a second of CPU, while the
    caller goes on. `forked` (a command before its event loop runs): each starts at once
    with every module this process imported. A forked child copies only the thread that
    forks, and a lock another thread held then stays held in it for good, so with any
    other thread running, or an event loop, they are spawned all the same."""
    method = "fork" if forked and _single_threaded() else "spawn"
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context(method), initializer=initializer
    )
    for _ in range(workers):
        executor.submit(os.getpid)
    return executor


def _single_threaded() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return threading.active_count() == 1
    return False


class RebuildWorkers:
    """The worker processes of a replay, a rerule or a switch: they decode the history (a
    replay's phase 1), then each evaluates its part of the scopes (phase 2). The command
    that runs them starts them, `forked` before its event loop."""

    def __init__(
        self, decoding: Decoding, workers: int = REBUILD_WORKERS, *, forked: bool = False
    ) -> None:
        self.decoding = decoding
        self.workers = workers
        self.executor = start_workers(decoding.start_worker, workers, forked=forked)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


async def load_history(
    *,
    store: RebuildStore,
    pool: RebuildWorkers,
    version: Version,
    reader: HistoryReader,
    until: dict[int, int],
    time_zone: str,
    on_batch: Callable[[int], None],
) -> Loaded:
    """Phase 1: every fact up to `until`.

    The pool's worker processes validate and shape the records while this process reads
    Kafka and COPYs the previous batch: the three overlap. (The caller closes the pool:
    its workers evaluate the scopes next.)"""
    workers = pool.workers
    queue: asyncio.Queue[_Loaded | None] = asyncio.Queue(maxsize=workers + 1)
    producer = asyncio.create_task(
        _decode_into(
            queue, reader, until, pool.executor, pool.decoding.decode_chunk, workers=workers,
            time_zone=time_zone,
        )
    )  # fmt: skip
    positions: dict[int, int] = {}
    poison = 0
    conflicts: set[tuple[str, str]] = set()
    try:
        while (loaded := await queue.get()) is not None:
            highest = loaded.records.highest
            conflicts |= await store.load_facts(
                version, loaded.chunk.payloads, {reader.topic: highest}
            )
            conflicts |= loaded.chunk.conflicts
            positions.update(highest)
            poison += loaded.chunk.poison
            on_batch(len(loaded.records))
        await producer
    finally:
        producer.cancel()
    return Loaded(positions, poison, conflicts)


async def _decode_into(
    queue: asyncio.Queue[_Loaded | None],
    reader: HistoryReader,
    until: dict[int, int],
    pool: ProcessPoolExecutor,
    decode_chunk: DecodeChunk,
    *,
    workers: int,
    time_zone: str,
) -> None:
    """Reads ahead and hands each batch to a worker; results are queued in log order."""
    loop = asyncio.get_running_loop()
    pending: deque[tuple[RecordColumns, asyncio.Future[DecodedChunk]]] = deque()

    async def hand_on(keep: int) -> None:
        # In log order: the oldest batch goes first once it is done or too many wait.
        while len(pending) > keep or (pending and pending[0][1].done()):
            records, done = pending.popleft()
            await queue.put(_Loaded(records, await done))

    async for batch in reader.read_columns(after={}, until=until):
        future = loop.run_in_executor(
            pool, decode_chunk, batch.values, batch.schema_versions, batch.positions, time_zone
        )
        pending.append((batch, future))
        await hand_on(keep=workers)
    await hand_on(keep=0)
    await queue.put(None)


async def reconcile_conflicts(
    *,
    store: RebuildStore,
    version: Version,
    reader: HistoryReader,
    keys: set[tuple[str, str]],
) -> None:
    """The load keeps the first copy of a pair it inserts, per table; for the pairs seen
    with different contents, replace whatever was loaded with the facts of the copy that
    stands in the total order (as the live fold decides). Rare: read one by one."""
    if not keys:
        return
    async with store.writer.version(version) as tx:
        standing = await tx.store.identities(keys)
        await tx.store.retract(keys)
        events = []
        for identity in standing.values():
            after = {identity.partition: identity.offset - 1}
            until = {identity.partition: identity.offset + 1}
            async for batch in reader.read(after=after, until=until):
                for record in batch:
                    outcome = decode_checked(record)
                    if record.offset == identity.offset and not isinstance(outcome, Poison):
                        events.append(outcome)
        await tx.store.add_facts(facts_from_events(events))


async def evaluate_all(
    *,
    store: EvaluationStore,
    evaluating: Evaluating,
    pool: RebuildWorkers | None,
    version: Version,
    policy: Policy,
    shared: FactSnapshot | None = None,
) -> None:
    """Phase 2: every scope, once, each stage over one part per worker of the `pool`
    (None: in this process); a stage starts once the one before committed."""
    loop = asyncio.get_running_loop()
    for stage in STAGES:
        if pool is None:
            await evaluate_stage(
                store=store, version=version, policy=policy, stage=stage, shared=shared
            )
            continue
        parts = [Part(index, pool.workers) for index in range(pool.workers)]
        await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool.executor, evaluating.evaluate_part, version, policy, stage, part, shared
                )
                for part in parts
            )
        )


async def evaluate_stage(
    *,
    store: EvaluationStore,
    version: Version,
    policy: Policy,
    stage: str,
    part: Part = WHOLE,
    shared: FactSnapshot | None = None,
) -> None:
    """One stage of phase 2 over the scopes of `part`, committed as a whole; the facts
    read in `shared` when given (a what-if), else in the version. Unit-years read the
    warnings and alerts the first stage wrote, so they come once it committed (and not
    in the snapshot, which was taken before)."""
    snapshot = shared if stage == "scopes" else None
    async with store.evaluation(version, policy, part, snapshot) as (facts, out):
        if stage == "scopes":
            await _evaluate_scopes(facts, out, policy)
        elif stage == "unit_years":
            async for unit_id, year, warnings, collectives in facts.unit_year_groups():
                for alert in evaluate_unit_year(unit_id, year, warnings, collectives, policy):
                    await out.alert(alert)
        else:
            raise ValueError(f"no evaluation stage {stage!r}")
        await out.flush()


async def _evaluate_scopes(facts: ScopeFacts, out: ResultSink, policy: Policy) -> None:
    """Complaints, staff-months and the findings judged alone."""
    async for cid, filings, verdicts in facts.complaint_groups():
        outcome = evaluate_complaint(cid, filings, verdicts, policy)
        if outcome.state is not None:
            await out.complaint(outcome.state)
        for warning in outcome.warnings:
            await out.warning(warning)
        for alert in outcome.alerts:
            await out.alert(alert)
    # A staff-month within the limit raises nothing: the database keeps those back.
    limit = policy.attendance.monthly_limit
    groups = facts.staff_month_groups(policy.attendance.codes, more_than=limit)
    async for staff_id, month, findings in groups:
        if attendance := evaluate_attendance(staff_id, month, findings, policy):
            await out.warning(attendance)
    async for finding in facts.single_findings(policy.absence.codes):
        if absence := evaluate_absence(finding, policy):
            await out.warning(absence)
        if unit_wide := evaluate_unit_wide(finding, policy):
            await out.alert(unit_wide)
