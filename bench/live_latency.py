"""(c) of the rebuild benchmark: intake 202 → visible in the query API."""

from __future__ import annotations


async def measure_live_latency(
    *, bootstrap: str, database_url: str, prefix: str, rate: int, seconds: int
) -> dict[str, float | None]:
    raise NotImplementedError("written once the intake service is in")
