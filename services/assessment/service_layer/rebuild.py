"""Rebuild every projection from the start of events.v1 into a new version, while the
live version keeps serving and consuming; then switch to it atomically.

Steps: take the rebuild lock (one rebuild at a time) → discard builds a crash left
behind → create the new version's schema → fold the whole log in large batches →
catch up with the live version's positions → in one transaction holding both
versions' writer locks, fold the last few records and make the new version live.
A crash anywhere before that transaction leaves the live version untouched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.assessment.domain.changes import diff
from services.assessment.domain.policy import Policy
from services.assessment.service_layer.bulk import (
    RebuildWorkers,
    evaluate_all,
    load_history,
    reconcile_conflicts,
)
from services.assessment.service_layer.folding import Folded, fold
from services.assessment.service_layer.rebuild_ports import (
    HistoryReader,
    Index,
    RebuildLock,
    RebuildLockLostError,
    RebuildPorts,
    RebuildStore,
    TableDiff,
    Version,
    VersionCatalogue,
    VersionError,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (records done, records in the plan)
SWITCH_GAP = 5_000  # records behind live that are folded inside the switch transaction


class RebuildRefusedError(RuntimeError):
    """Another rebuild holds the lock."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    version: int
    policy_version: str
    records: int
    poison: int
    seconds: float
    previous_version: int | None
    discarded_builds: list[int]
    warnings: TableDiff | None
    alerts: TableDiff | None
    phases: dict[str, float]  # seconds per phase: load, evaluate, index, catch_up, switch
    changes_published: int = 0  # the switch's changes queued for the change feed
    switched: bool = True  # False: a what-if (`--no-switch`), compared with live only

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class _Poisoned:
    """Counts what a rebuild could not fold (the live fold parked it already)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, folded: Folded) -> None:
        self.count += folded.poison + folded.conflicts


class _Stopwatch:
    def __init__(self, laps: dict[str, float]) -> None:
        self._laps = laps
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self._laps[name] = round(now - self._last, 2)
        self._last = now


class _Plan:
    """Counts folded records against a growing target, for the progress bar."""

    def __init__(self, on_progress: Progress | None) -> None:
        self.done = 0
        self.total = 0
        self._on_progress = on_progress

    def extend(self, after: dict[int, int], until: dict[int, int]) -> None:
        self.total += sum(max(0, end - (after.get(p, -1) + 1)) for p, end in until.items())
        self.report()

    def advance(self, records: int) -> None:
        self.done += records
        self.report()

    def report(self) -> None:
        if self._on_progress:
            self._on_progress(self.done, max(self.total, self.done))


@dataclass(frozen=True, slots=True)
class Build:
    """A version being built, as the step that fills it sees it."""

    version: Version
    plan: _Plan  # records (or events) done, for the progress bar and the report
    clock: _Stopwatch  # laps per phase
    deadletters: _Poisoned  # what could not be folded (the live fold parked it)
    # Called once every fact is in: the database indexes and analyzes the fact tables
    # meanwhile (the evaluation only reads them); otherwise that waits for the fill's end.
    facts_complete: Callable[[], None]


# Fills the new version's tables (their secondary indexes are dropped meanwhile): facts,
# results, and the positions it reached in events.v1.
Fill = Callable[[Build], Awaitable[None]]


async def rebuild(
    *,
    ports: RebuildPorts,
    reader: HistoryReader,
    pool: RebuildWorkers,
    policy: Policy,
    changes_topic: str,
    on_progress: Progress | None = None,
    note: str | None = None,
    switch: bool = True,
) -> RebuildReport:
    """Build a new version and switch to it; the switch queues, for the change feed,
    the difference between the old live version and the new one. With `switch=False`
    the version is left 'ready' beside live (a what-if): the report compares it with
    live, nothing reaches readers or the change feed; `switch_to` may switch later.
    `pool`: the workers that decode and evaluate (the caller closes them)."""

    async def fill(build: Build) -> None:
        # 1. The whole log as it stands now: every fact, then every scope once.
        store, version = ports.store, build.version
        async with store.session() as session:
            await session.suspend_counts(version)
        until = await reader.end_offsets()
        build.plan.extend({}, until)
        loaded = await load_history(
            store=store,
            pool=pool,
            version=version,
            reader=reader,
            until=until,
            time_zone=policy.time_zone,
            on_batch=build.plan.advance,
        )
        await reconcile_conflicts(
            store=store, version=version, reader=reader, keys=loaded.conflicts
        )
        build.deadletters.count += loaded.poison + len(loaded.conflicts)
        build.clock.lap("load")
        build.facts_complete()
        # 2. On the same workers: each evaluates its part of the scopes.
        await evaluate_all(
            store=store, evaluating=ports.evaluating, pool=pool, version=version, policy=policy
        )
        async with store.session() as session:
            await session.count_results(version)
        build.clock.lap("evaluate")

    return await build_version(
        ports=ports, reader=reader, policy=policy, changes_topic=changes_topic,
        on_progress=on_progress, note=note, switch=switch, fill=fill,
    )  # fmt: skip


async def build_version(
    *,
    ports: RebuildPorts,
    reader: HistoryReader | None,
    policy: Policy,
    changes_topic: str,
    fill: Fill,
    on_progress: Progress | None = None,
    note: str | None = None,
    switch: bool = True,
    into: Version | None = None,
) -> RebuildReport:
    """Under the rebuild lock: a new version with `policy` (or `into`, a ready version,
    emptied), filled by `fill`, indexed and analyzed; then caught up with live and
    switched to (the change feed learning the difference), or with `switch=False` left
    'ready' beside live. `reader` (events.v1) is needed only to switch."""
    if switch and reader is None:
        raise ValueError("switching needs the history reader (the catch-up reads events.v1)")
    started = time.monotonic()
    store = ports.store
    lock = await store.take_lock()
    if lock is None:
        raise RebuildRefusedError("another rebuild is running; try again when it ends")
    try:
        try:
            discarded = await _discard_abandoned_builds(lock.catalogue)
            if into is None:
                version = await lock.catalogue.create_version(
                    policy=policy, state="building", note=note
                )
            else:
                version = await lock.catalogue.empty_for_build(into.version)
        except Exception:
            if lock.lost:  # the next replay discards what was registered
                raise RebuildLockLostError from None
            raise
        build = asyncio.create_task(
            _build_and_switch(
                store=store,
                lock=lock,
                reader=reader if switch else None,
                version=version,
                changes_topic=changes_topic,
                plan=_Plan(on_progress),
                started=started,
                discarded=discarded,
                fill=fill,
            )
        )
        lock.on_lost(build.cancel)  # stop at once: another rebuild may take over
        try:
            return await build
        except BaseException as error:
            async with store.session() as session:
                await session.set_state(version.version, "failed")
            if isinstance(error, asyncio.CancelledError) and lock.lost:
                raise RebuildLockLostError from None
            raise
    finally:
        await lock.release()


async def _build_and_switch(
    *,
    store: RebuildStore,
    lock: RebuildLock,
    reader: HistoryReader | None,  # None: do not switch
    version: Version,
    changes_topic: str,
    plan: _Plan,
    started: float,
    discarded: list[int],
    fill: Fill,
) -> RebuildReport:
    deadletters = _Poisoned()
    phases: dict[str, float] = {}
    clock = _Stopwatch(phases)
    async with store.session() as session:
        indexes = await session.drop_secondary_indexes(version)
    facts_finished: list[asyncio.Task[None]] = []

    def facts_complete() -> None:
        if not facts_finished:
            facts_finished.append(
                asyncio.create_task(_finish_tables(store, version, indexes, facts=True))
            )

    try:
        await fill(Build(version, plan, clock, deadletters, facts_complete))
        async with store.session() as session:
            built = await session.get_version(version.version)
        # A what-if that holds results only is never queried, and a switch to it builds
        # it anew: it goes without indexes and statistics.
        if built is None or built.holds_facts:
            facts_complete()  # if the fill did not say so earlier
            await _finish_tables(store, version, indexes, facts=False)
            await facts_finished[0]
    finally:
        for task in facts_finished:
            task.cancel()
    clock.lap("index")
    if reader is None:
        async with store.session() as session:
            await session.set_state(version.version, "ready")
            live = await session.live_version()
        return await _report(
            store, version, live, plan=plan, poison=deadletters.count, started=started,
            discarded=discarded, phases=phases, published=0, switched=False,
        )  # fmt: skip
    async with store.session() as session:
        positions = await session.positions(version, reader.topic)
    previous, published = await _catch_up_and_switch(
        store=store, lock=lock, reader=reader, version=version, positions=positions,
        changes_topic=changes_topic, plan=plan, deadletters=deadletters, clock=clock,
    )  # fmt: skip
    return await _report(
        store, version, previous, plan=plan, poison=deadletters.count, started=started,
        discarded=discarded, phases=phases, published=published, switched=True,
    )  # fmt: skip


async def _finish_tables(
    store: RebuildStore, version: Version, indexes: list[Index], *, facts: bool
) -> None:
    async with store.session() as session:
        await session.finish_tables(version, indexes, facts=facts)


async def switch_to(
    *,
    ports: RebuildPorts,
    reader: HistoryReader,
    version_number: int,
    changes_topic: str,
    on_progress: Progress | None = None,
) -> RebuildReport:
    """Make a 'ready' version live (a `--no-switch` build, or a version switched away
    from): fold what it has not seen yet, then switch exactly as a replay does, the
    change feed learning the difference in the same transaction."""
    started = time.monotonic()
    store = ports.store
    lock = await store.take_lock()
    if lock is None:
        raise RebuildRefusedError("a rebuild is running; try again when it ends")
    try:
        async with store.session() as session:
            version = await session.get_version(version_number)
            if version is None:
                raise VersionError(f"projection version {version_number} does not exist")
            if version.state != "ready":
                raise VersionError(
                    f"version {version_number} is {version.state}; only a ready version can "
                    "be switched to"
                )
            if not version.holds_facts:  # its fact tables are empty: nothing to fold onto
                raise VersionError(
                    f"version {version_number} is a what-if that holds results only; it is "
                    "evaluated again before a switch (switch_to_version)"
                )
            positions = await session.positions(version, reader.topic)
        phases: dict[str, float] = {}
        plan = _Plan(on_progress)
        deadletters = _Poisoned()
        previous, published = await _catch_up_and_switch(
            store=store, lock=lock, reader=reader, version=version, positions=positions,
            changes_topic=changes_topic, plan=plan, deadletters=deadletters,
            clock=_Stopwatch(phases),
        )  # fmt: skip
        return await _report(
            store, version, previous, plan=plan, poison=deadletters.count, started=started,
            discarded=[], phases=phases, published=published, switched=True,
        )  # fmt: skip
    finally:
        await lock.release()


async def _catch_up_and_switch(
    *,
    store: RebuildStore,
    lock: RebuildLock,
    reader: HistoryReader,
    version: Version,
    positions: dict[int, int],
    changes_topic: str,
    plan: _Plan,
    deadletters: _Poisoned,
    clock: _Stopwatch,
) -> tuple[Version | None, int]:
    """(the version that was live, changes queued for the feed)."""
    topic = reader.topic
    # 2. Catch up with the live version until the rest fits in the switch.
    while True:
        live = await _live_positions(store, topic)
        if _gap(positions, live) <= SWITCH_GAP:
            break
        positions = await _fold_range(
            store,
            version,
            reader,
            after=positions,
            until=_exclusive(live),
            plan=plan,
            deadletters=deadletters,
        )
    clock.lap("catch_up")
    # 3. Switch: the live writer waits on its lock for the few records folded here.
    # Subscribers of the change feed learn the difference, in the same transaction.
    async with store.switch_transaction() as switching:
        await lock.check_held(switching)  # else another rebuild may have discarded this one
        await switching.lock_writer(version)
        previous = await switching.live_version()
        if previous is not None:
            await switching.lock_writer(previous)
            live = await switching.positions(previous, topic)
            async for batch in reader.read(after=positions, until=_exclusive(live)):
                async with switching.fold_into(version) as tx:
                    deadletters.add(await fold(tx, batch))
                plan.advance(len(batch))
        changes = diff(*await switching.differing_results(previous, version))
        published = await switching.publish_changes(
            changes, topic=changes_topic, projection_version=version.version
        )
        await switching.switch_live(version)
    clock.lap("switch")
    return previous, published


async def _report(
    store: RebuildStore,
    version: Version,
    compared: Version | None,
    *,
    plan: _Plan,
    poison: int,
    started: float,
    discarded: list[int],
    phases: dict[str, float],
    published: int,
    switched: bool,
) -> RebuildReport:
    """`compared`: the version that was live (after a switch) or is live (a what-if)."""
    warnings = alerts = None
    if compared is not None and compared.version != version.version:
        async with store.session() as session:
            warnings = await session.diff_table("warnings", old=compared, new=version)
            alerts = await session.diff_table("alerts", old=compared, new=version)
    return RebuildReport(
        version=version.version,
        policy_version=version.policy_version,
        records=plan.done,
        poison=poison,
        seconds=time.monotonic() - started,
        previous_version=compared.version if compared else None,
        discarded_builds=discarded,
        warnings=warnings,
        alerts=alerts,
        phases=phases,
        changes_published=published,
        switched=switched,
    )


async def _fold_range(
    store: RebuildStore,
    version: Version,
    reader: HistoryReader,
    *,
    after: dict[int, int],
    until: dict[int, int],
    plan: _Plan,
    deadletters: _Poisoned,
) -> dict[int, int]:
    plan.extend(after, until)
    positions = dict(after)
    async for batch in reader.read(after=after, until=until):
        async with store.writer.version(version) as tx:
            deadletters.add(await fold(tx, batch))
        for record in batch:
            positions[record.partition] = max(positions.get(record.partition, -1), record.offset)
        plan.advance(len(batch))
    return positions


def _exclusive(positions: dict[int, int]) -> dict[int, int]:
    return {partition: offset + 1 for partition, offset in positions.items()}


def _gap(mine: dict[int, int], live: dict[int, int]) -> int:
    return sum(max(0, offset - mine.get(partition, -1)) for partition, offset in live.items())


async def _live_positions(store: RebuildStore, topic: str) -> dict[int, int]:
    async with store.session() as session:
        live = await session.live_version()
        return await session.positions(live, topic) if live else {}


async def _discard_abandoned_builds(catalogue: VersionCatalogue) -> list[int]:
    """Builds left 'building' or 'failed' by a crash or a lost lock: nobody reads them;
    drop them. (We hold the rebuild lock, so none of them is being built.)"""
    dropped = []
    for found in await catalogue.list_versions():
        if found.state in {"building", "failed"}:
            await catalogue.drop_version(found.version)
            dropped.append(found.version)
            log.info("dropped abandoned build %d", found.version)
    return dropped
