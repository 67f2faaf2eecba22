"""The entry point of an evaluation worker process (`assessment replay` and `rerule`):
evaluates one part of one stage of a version being built, on connections of its own.
Module-level functions only: they are pickled by reference into the workers."""

from __future__ import annotations

import asyncio

from services.assessment.adapters.db import create_pool
from services.assessment.adapters.scope_store import PgEvaluation
from services.assessment.domain.policy import Policy
from services.assessment.service_layer.bulk import evaluate_stage
from services.assessment.service_layer.rebuild_ports import FactSnapshot, Part, Version


def evaluate_part(
    database_url: str,
    version: Version,
    policy: Policy,
    stage: str,
    part: Part,
    shared: FactSnapshot | None,
) -> None:
    async def evaluate() -> None:
        pool = await create_pool(database_url, size=2)  # the facts read, the results written
        try:
            await evaluate_stage(
                store=PgEvaluation(pool), version=version, policy=policy, stage=stage,
                part=part, shared=shared,
            )  # fmt: skip
        finally:
            await pool.close()

    asyncio.run(evaluate())
