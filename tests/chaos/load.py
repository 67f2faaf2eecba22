"""The steady load: a seeded history sent through intake over HTTP in small batches,
by a client that retries (as upstream systems do) until each batch gets its 202."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRYABLE = {429, 502, 503, 504}


@dataclass
class Load:
    """Sends the seeded history batch by batch, paced, for as long as faults are being
    injected, and at least `minimum` events; the history's order is the seed's."""

    history: Iterator[dict[str, Any]]
    minimum: int
    batch: int
    pause_s: float
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, body): a bug
    answers: list[Answer] = field(default_factory=list)  # every request, in order
    faults_over: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, url: str, token: str) -> None:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15
        ) as client:
            sent = 0
            while sent < self.minimum or not self.faults_over.is_set():
                batch = list(itertools.islice(self.history, self.batch))
                if not batch:
                    return  # the history is exhausted
                await self._send(client, batch)
                sent += len(batch)
                if not self.faults_over.is_set():
                    await asyncio.sleep(self.pause_s)  # steady, not flat out

    async def _send(self, client: httpx.AsyncClient, batch: list[dict[str, Any]]) -> None:
        backoff = 0.1
        while True:
            started = time.monotonic()
            answer: httpx.Response | None = None
            try:
                answer = await client.post("/v1/events", json=batch)
                status = str(answer.status_code)
            except httpx.TransportError as error:  # intake down or restarting
                status = type(error).__name__
            self.statuses[status] += 1
            self.answers.append(Answer(started, time.monotonic() - started, status))
            if answer is not None:
                if answer.status_code == 202:
                    self.accepted.extend(batch)
                    return
                if answer.status_code not in RETRYABLE:
                    self.refused.append((answer.status_code, answer.text[:300]))
                    return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    def between(self, start: float, end: float) -> list[Answer]:
        """The answers to requests in flight at some moment from `start` to `end`
        (monotonic clock): one sent before a kill and cut short by it counts."""
        return [a for a in self.answers if a.sent_at <= end and a.sent_at + a.seconds >= start]


@dataclass(frozen=True)
class Answer:
    sent_at: float  # monotonic clock
    seconds: float
    status: str  # the HTTP status, or the transport error's name
