"""Recompute every scope under another policy from the facts already in PostgreSQL:
no fact is read from Kafka.

The facts do not depend on the policy (but for their months, in its time zone). Every
scope is evaluated once — the rebuild's phase 2 — by worker processes, each over its
own slice of the scopes (by a hash of the complaint, staff or unit id). Where the facts
come from:
- a what-if (no switch, same time zone) reads the live version's facts in one exported
  snapshot and copies none: it holds results only. Its fact tables stay empty, so a
  switch to it later evaluates it again, from the facts as they are then
  (`switch_to_version`);
- otherwise the new version takes the live version's facts, event identities and
  positions in one snapshot, by set-based SQL, and is evaluated from its own copy.
The rest is the replay's: the lock, the new version, indexes and ANALYZE, then the
catch-up with what live folded meanwhile (from Kafka, from the copied positions) and
the switch with its change feed, or, without switching, a what-if left 'ready' beside
live.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.assessment.domain.policy import Policy
from services.assessment.service_layer.bulk import REBUILD_WORKERS, RebuildWorkers, evaluate_all
from services.assessment.service_layer.rebuild import (
    Build,
    Progress,
    RebuildReport,
    build_version,
    switch_to,
)
from services.assessment.service_layer.rebuild_ports import (
    FactSnapshot,
    HistoryReader,
    RebuildPorts,
    RebuildStore,
    Version,
    VersionError,
)

DEFAULT_WORKERS = REBUILD_WORKERS  # one per core, as the replay


async def rerule(
    *,
    ports: RebuildPorts,
    reader: HistoryReader | None,
    policy: Policy,
    changes_topic: str,
    pool: RebuildWorkers | None = None,
    on_progress: Progress | None = None,
    note: str | None = None,
    switch: bool = True,
    into: Version | None = None,
) -> RebuildReport:
    """A new version under `policy`, from the live version's stored facts, evaluated by
    the `pool`'s workers (None: in this process; the caller closes them); switched to as
    a replay is, or with `switch=False` left 'ready' beside live (then `reader` may be
    None: nothing at all is read from Kafka). `into`: a ready version to build again
    instead of a new one."""

    async def fill(build: Build) -> None:
        store, version = ports.store, build.version
        async with store.session() as session:
            live = await session.live_version()
            if live is None:
                raise VersionError("no live version to take the facts from")
            live_zone = (await session.policy_of(live)).time_zone
            # Parallel writers: the derived counts are made once, at the end.
            await session.suspend_counts(version)
        facts = _facts(store, build, live, live_zone=live_zone, policy=policy, what_if=not switch)
        async with facts as (events, shared):
            build.plan.total += events
            await evaluate_all(
                store=store, evaluating=ports.evaluating, pool=pool, version=version,
                policy=policy, shared=shared,
            )  # fmt: skip
        async with store.session() as session:
            await session.count_results(version)
        build.plan.advance(events)
        build.clock.lap("evaluate")

    return await build_version(
        ports=ports, reader=reader, policy=policy, changes_topic=changes_topic,
        on_progress=on_progress, note=note, switch=switch, fill=fill, into=into,
    )  # fmt: skip


async def switch_to_version(
    *,
    ports: RebuildPorts,
    reader: HistoryReader,
    version_number: int,
    changes_topic: str,
    pool: RebuildWorkers | None = None,
    on_progress: Progress | None = None,
) -> RebuildReport:
    """Make a ready version live. One that holds its facts catches up and switches
    (`switch_to`); a what-if that holds results only is evaluated again under its own
    policy, into the same version, from the live facts as they are now (its results
    were those of the facts as they were), by the `pool`'s workers, then switched to."""
    async with ports.store.session() as session:
        version = await session.get_version(version_number)
        results_only = version is not None and not version.holds_facts
        policy = await session.policy_of(version) if version and results_only else None
    if version is None or policy is None:
        return await switch_to(
            ports=ports, reader=reader, version_number=version_number,
            changes_topic=changes_topic, on_progress=on_progress,
        )  # fmt: skip
    return await rerule(
        ports=ports, reader=reader, policy=policy, changes_topic=changes_topic,
        pool=pool, on_progress=on_progress, into=version,
    )  # fmt: skip


@asynccontextmanager
async def _facts(
    store: RebuildStore, build: Build, live: Version, *, live_zone: str, policy: Policy,
    what_if: bool,
) -> AsyncIterator[tuple[int, FactSnapshot | None]]:  # fmt: skip
    """(events, the snapshot to read the facts in) for the evaluation. A what-if in
    live's time zone shares live's facts through a snapshot held until the evaluation
    ends (the version then holds results only); otherwise they are copied into the
    version (None: read them there), their months computed anew in another zone."""
    version = build.version
    same_zone = live_zone == policy.time_zone
    if what_if and same_zone:
        async with store.session() as session:
            await session.set_holds_facts(version.version, False)
        async with store.share_facts(live, version) as shared:
            yield shared.events, shared.snapshot
        return
    async with store.session() as session:
        events = await session.copy_facts(
            live, version, time_zone=None if same_zone else policy.time_zone
        )
    build.clock.lap("copy")
    build.facts_complete()
    yield events, None
