"""The evaluation's side of PostgreSQL (the port `EvaluationStore`): a version's facts
streamed back one scope at a time, over one part of the scopes, and the results written
by binary COPY. Kept apart from rebuild_store.py, so that an evaluation worker process
imports only what it uses (not the change feed's producer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import asyncpg

from services.assessment.adapters import bulk_store, fact_copy
from services.assessment.adapters.db import Connection
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.policy import Policy
from services.assessment.domain.unit_alerts import Timed, TimedCollective
from services.assessment.service_layer.rebuild_ports import WHOLE, FactSnapshot, Part, Version
from shared.catalogue import FindingCode


class PgScopeFacts:
    def __init__(self, conn: Connection, schema: str, part: Part) -> None:
        self._conn = conn
        self._schema = schema
        self._part = part

    def complaint_groups(
        self,
    ) -> AsyncIterator[tuple[str, list[ComplaintFiling], list[ComplaintVerdict]]]:
        return bulk_store.complaint_groups(self._conn, self._schema, self._part)

    def staff_month_groups(
        self, codes: Collection[FindingCode], *, more_than: int = 0
    ) -> AsyncIterator[tuple[str, str, list[Finding]]]:
        return bulk_store.staff_month_groups(self._conn, self._schema, codes, self._part, more_than)

    def single_findings(self, codes: Collection[FindingCode]) -> AsyncIterator[Finding]:
        return bulk_store.single_findings(self._conn, self._schema, codes, self._part)

    def unit_year_groups(
        self,
    ) -> AsyncIterator[tuple[str, int, list[Timed], list[TimedCollective]]]:
        return bulk_store.unit_year_groups(self._conn, self._schema, self._part)


class PgEvaluation:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def evaluation(
        self,
        version: Version,
        policy: Policy,
        part: Part = WHOLE,
        shared: FactSnapshot | None = None,
    ) -> AsyncIterator[tuple[PgScopeFacts, bulk_store.CopyWriter]]:
        async with (
            self._pool.acquire() as source,
            self._pool.acquire() as sink,
            source.transaction(isolation="repeatable_read", readonly=True),
            sink.transaction(),
        ):
            if shared is not None:
                await fact_copy.use_snapshot(source, shared.snapshot)
            yield (
                PgScopeFacts(source, shared.schema_name if shared else version.schema_name, part),
                bulk_store.CopyWriter(sink, version.schema_name, policy.tz),
            )
