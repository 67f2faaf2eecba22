"""The ports of the rebuild path (`replay`, `rerule`, `versions switch`): what
rebuild.py, rerule.py and bulk.py need of Kafka, of PostgreSQL and of worker processes,
and the types they exchange. `adapters/` implements them (kafka_log, rebuild_lock,
rebuild_store, bulk_decode), `entrypoints/scope_worker.py` is the evaluation workers'
entry; `bootstrap.py` wires the concrete ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.assessment.domain.changes import Change, Result
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.identity import Key
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Record
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.domain.unit_alerts import Timed, TimedCollective
from services.assessment.service_layer.folding import WriteTransaction
from shared.catalogue import FindingCode


class VersionError(RuntimeError):
    """An operation on projection versions that cannot be done (message says why)."""


class RebuildLockLostError(RuntimeError):
    """The rebuild lock's session ended: another rebuild may be running now."""

    def __init__(self) -> None:
        super().__init__(
            "the rebuild lost its lock (its database session ended); nothing was switched"
        )


@dataclass(frozen=True, slots=True)
class Version:
    """One complete set of projections, in its own schema, built with one policy."""

    version: int
    schema_name: str
    policy_version: str
    policy_fingerprint: str
    state: str  # building, ready, live, failed
    created_at: datetime
    live_since: datetime | None
    note: str | None
    # False: a what-if evaluated from another version's facts, results only (its fact
    # tables are empty); a switch to it evaluates it again first.
    holds_facts: bool = True

    @property
    def is_live(self) -> bool:
        return self.state == "live"


@dataclass(frozen=True, slots=True)
class Index:
    """A secondary index dropped while a version is filled, to be built again after."""

    table: str
    definition: str  # the CREATE INDEX statement


@dataclass(frozen=True, slots=True)
class TableDiff:
    """What a version changes in one results table compared with another."""

    active_before: int
    active_after: int
    added: int  # active now, and absent or revoked before
    revoked: int  # active before, and absent or revoked now
    rule_changed: int  # in both, with another rule


@dataclass(frozen=True, slots=True)
class RecordColumns:
    """A batch of records as parallel columns."""

    values: list[bytes | None]
    schema_versions: list[str | None]  # the schema-version header of each
    positions: list[tuple[int, int]]  # (partition, offset) of each
    highest: dict[int, int]  # partition -> its last offset in the batch

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class DecodedChunk:
    payloads: dict[str, bytes]  # fact table -> rows, in the form FactLoader.load_facts takes
    poison: int
    # (source, id) pairs the chunk held more than once with different contents: the
    # payloads hold each pair once, so only the chunk can tell.
    conflicts: set[tuple[str, str]] = field(default_factory=set)


# (values, schema-version headers, (partition, offset) of each, time zone) -> chunk.
DecodeChunk = Callable[
    [Sequence[bytes | None], Sequence[str | None], Sequence[tuple[int, int]], str], DecodedChunk
]


@dataclass(frozen=True, slots=True)
class Part:
    """One of `count` disjoint slices of the scopes (by a hash of their key): parts
    evaluate in parallel, and together cover every scope once."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"part {self.index} of {self.count}")


WHOLE = Part(0, 1)


@dataclass(frozen=True, slots=True)
class FactSnapshot:
    """Another version's facts as one snapshot of the database shows them: a what-if
    evaluates them there instead of copying them. Every reader of the snapshot sees the
    same facts, whatever the live fold commits meanwhile."""

    schema_name: str
    snapshot: str  # the exported snapshot's id, valid while its exporter's transaction lasts


@dataclass(frozen=True, slots=True)
class SharedFacts:
    snapshot: FactSnapshot
    events: int  # the events whose facts the snapshot holds


# The evaluation in stages: a stage reads what the stages before it wrote (committed).
STAGES = ("scopes", "unit_years")

# (version, policy, stage, part, shared): evaluates that part of that stage and commits
# it; the facts are read in the `shared` snapshot when given, else in the version itself.
EvaluatePart = Callable[[Version, Policy, str, Part, FactSnapshot | None], None]


@dataclass(frozen=True, slots=True)
class Evaluating:
    """The evaluation's parts, run in worker processes (module-level functions or
    partials of them: pickled by reference)."""

    evaluate_part: EvaluatePart


@dataclass(frozen=True, slots=True)
class Decoding:
    """The load phase's CPU work, run in worker processes: module-level functions,
    pickled by reference into the workers."""

    decode_chunk: DecodeChunk
    start_worker: Callable[[], None]  # each worker's initializer


class HistoryReader(Protocol):
    """events.v1 read outside any consumer group, between positions."""

    @property
    def topic(self) -> str: ...

    async def end_offsets(self) -> dict[int, int]:
        """Offset the next record of each partition will get."""
        ...

    def read(self, *, after: dict[int, int], until: dict[int, int]) -> AsyncIterator[list[Record]]:
        """Batches of records with `after[p] < offset < until[p]` (after: last offset
        already folded, -1 for none; until: exclusive end)."""
        ...

    def read_columns(
        self, *, after: dict[int, int], until: dict[int, int]
    ) -> AsyncIterator[RecordColumns]:
        """`read`, as the columns the rebuild's decode workers take: no Record per record
        (making them cost this process about half of what the Kafka client's own
        decoding costs)."""
        ...


class VersionCatalogue(Protocol):
    """The registry of projection versions, on one database session."""

    async def list_versions(self) -> list[Version]: ...

    async def get_version(self, number: int) -> Version | None: ...

    async def live_version(self) -> Version | None: ...

    async def create_version(self, *, policy: Policy, state: str, note: str | None) -> Version:
        """Register a new version and create its (empty) projection schema."""
        ...

    async def set_state(self, number: int, state: str) -> None: ...

    async def set_holds_facts(self, number: int, holds_facts: bool) -> None: ...

    async def empty_for_build(self, number: int) -> Version:
        """A ready version emptied (a new, empty projection schema) and 'building' again,
        same number, same policy (VersionError unless it is ready)."""
        ...

    async def drop_version(self, number: int) -> Version:
        """Drop a version that is neither live nor being built (VersionError if so)."""
        ...

    async def positions(self, version: Version, topic: str) -> dict[int, int]:
        """The last offset folded into `version`, per partition of `topic`."""
        ...


class RebuildSession(VersionCatalogue, Protocol):
    """A session of its own; each call commits on its own."""

    async def drop_secondary_indexes(self, version: Version) -> list[Index]:
        """Drop every index but the primary keys; returns their definitions."""
        ...

    async def finish_tables(
        self, version: Version, indexes: Sequence[Index], *, facts: bool
    ) -> None:
        """Create the `indexes` of the fact tables (`facts`) or of the
        other tables (results, counts), and gather those tables' planner statistics (built
        in bulk, the version would otherwise go live without any)."""
        ...

    async def suspend_counts(self, version: Version) -> None:
        """Stop keeping the monthly counts (ranking_counts) as results are written: the
        bulk evaluation writes every result once, and `count_results` counts them after."""
        ...

    async def count_results(self, version: Version) -> None:
        """The monthly counts of the version's results, in one set-based statement, and
        keep them again from now on (the catch-up and the live fold change results)."""
        ...

    async def diff_table(self, table: str, *, old: Version, new: Version) -> TableDiff: ...

    async def policy_of(self, version: Version) -> Policy: ...

    async def copy_facts(self, source: Version, target: Version, *, time_zone: str | None) -> int:
        """In one snapshot of `source`: copy its facts, the identities of its events and
        its positions into the empty `target`; with `time_zone`, the facts' months are
        computed anew in that zone. Returns the number of events copied."""
        ...


class SwitchTransaction(VersionCatalogue, Protocol):
    """One transaction: the switch of the live version, atomic with its change feed."""

    async def rebuild_lock_held_by(self, holder: int) -> bool:
        """Whether the session `holder` still holds the rebuild lock, seen from here."""
        ...

    async def lock_writer(self, version: Version) -> None:
        """Hold the version's writer lock until this transaction ends."""
        ...

    def fold_into(self, version: Version) -> AbstractAsyncContextManager[WriteTransaction]:
        """A write transaction on `version`, inside this one."""
        ...

    async def differing_results(
        self, old: Version | None, new: Version
    ) -> tuple[list[Result], list[Result]]:
        """The warnings and alerts that differ between two versions, as each holds them
        (with no old version, all of the new one)."""
        ...

    async def publish_changes(
        self, changes: Sequence[Change], *, topic: str, projection_version: int
    ) -> int:
        """Queue the changes for the change feed (the outbox), in this transaction."""
        ...

    async def switch_live(self, version: Version) -> None:
        """Make `version` live; the previous live version stays, as 'ready'."""
        ...


class RebuildLock(Protocol):
    """One rebuild at a time: held by a session of its own until released."""

    @property
    def lost(self) -> bool:
        """The lock's session ended unasked: another rebuild may be running."""
        ...

    @property
    def catalogue(self) -> VersionCatalogue:
        """The registry on the lock's own session: work that must run as the holder
        (dropping a build left behind checks that no other session holds the lock)."""
        ...

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call `callback` as soon as the lock's session ends (not on release)."""
        ...

    async def check_held(self, tx: SwitchTransaction) -> None:
        """Raise RebuildLockLostError unless the lock is still held, seen from `tx`."""
        ...

    async def release(self) -> None: ...


class ScopeFacts(Protocol):
    """A version's stored facts, streamed back one scope at a time (bounded memory)."""

    def complaint_groups(
        self,
    ) -> AsyncIterator[tuple[str, list[ComplaintFiling], list[ComplaintVerdict]]]:
        """Every complaint's filings and verdicts, one complaint at a time."""
        ...

    def staff_month_groups(
        self, codes: Collection[FindingCode], *, more_than: int = 0
    ) -> AsyncIterator[tuple[str, str, list[Finding]]]:
        """Findings with these codes naming a staff member, one (staff, month) at a time;
        only the (staff, month)s with more than `more_than` distinct findings."""
        ...

    def single_findings(self, codes: Collection[FindingCode]) -> AsyncIterator[Finding]:
        """Findings a rule judges on their own: these codes naming someone, or unit-wide."""
        ...

    def unit_year_groups(
        self,
    ) -> AsyncIterator[tuple[str, int, list[Timed], list[TimedCollective]]]:
        """Each unit-year's individual warnings and event-raised collective warnings
        (as written by the stages before)."""
        ...


class ResultSink(Protocol):
    """Where evaluated results go, in bulk."""

    async def complaint(self, state: ComplaintState) -> None: ...

    async def warning(self, warning: Warning) -> None: ...

    async def alert(self, alert: Alert) -> None: ...

    async def flush(self) -> None: ...


class VersionWriter(Protocol):
    def version(self, version: Version) -> AbstractAsyncContextManager[WriteTransaction]:
        """A write transaction on `version` (which publishes nothing)."""
        ...


class EvaluationStore(Protocol):
    def evaluation(
        self,
        version: Version,
        policy: Policy,
        part: Part = WHOLE,
        shared: FactSnapshot | None = None,
    ) -> AbstractAsyncContextManager[tuple[ScopeFacts, ResultSink]]:
        """One stage of the evaluation, over the scopes of `part`: the facts read in one
        read-only transaction (in the `shared` snapshot and schema when given, else in the
        version's own tables), the results written in another, committed when the stage
        ends."""
        ...


class RebuildStore(EvaluationStore, Protocol):
    """PostgreSQL, as the rebuild path sees it."""

    @property
    def writer(self) -> VersionWriter: ...

    async def take_lock(self) -> RebuildLock | None:
        """The rebuild lock; None when another session holds it."""
        ...

    def session(self) -> AbstractAsyncContextManager[RebuildSession]: ...

    def switch_transaction(self) -> AbstractAsyncContextManager[SwitchTransaction]: ...

    def share_facts(
        self, source: Version, target: Version
    ) -> AbstractAsyncContextManager[SharedFacts]:
        """A snapshot of `source`'s facts, held until the context ends; `target` gets the
        positions `source` had reached in it (the what-if is as of there)."""
        ...

    async def load_facts(
        self,
        version: Version,
        payloads: dict[str, bytes],
        positions: dict[str, dict[int, int]],
    ) -> set[Key]:
        """In one transaction: store the decoded facts of events not seen before (the
        first copy of an event wins) and the positions they reach; returns the (source,
        id) pairs seen with different contents."""
        ...


@dataclass(frozen=True, slots=True)
class RebuildPorts:
    store: RebuildStore
    decoding: Decoding
    evaluating: Evaluating
