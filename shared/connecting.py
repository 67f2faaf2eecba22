"""Start in any order: a service comes up without its dependencies and connects to them
in the background, with backoff, one step after the other (e.g. the database, then
Kafka). Until every step succeeded, `reasons()` says what is missing (for `/readyz`).

The log gets one line per change of state (waiting for a dependency, connected), not
a traceback per attempt: an outage of minutes would otherwise bury everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Attempt = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # what /readyz names: "database", "kafka"
    attempt: Attempt  # idempotent: it runs again after a failure


def describe(error: BaseException) -> str:
    """A short, single-line reason (no traceback)."""
    name = type(error).__name__
    lines = str(error).strip().splitlines()
    if not lines:
        return name
    return lines[0] if lines[0].startswith(name) else f"{name}: {lines[0]}"


class Connector:
    def __init__(
        self,
        steps: Sequence[Step],
        *,
        log: logging.Logger,
        first_delay: float = 0.5,
        max_delay: float = 10.0,
    ) -> None:
        self._steps = tuple(steps)
        self._log = log
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._done = 0  # steps that succeeded
        self._error: str | None = None  # why the current step last failed
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="connector")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reasons(self) -> list[str]:
        """What is not connected yet, one stable code per step still to do (they reach
        the unauthenticated /readyz; the error itself is logged, never shown)."""
        reasons = []
        for index, step in enumerate(self._steps[self._done :], start=self._done):
            if index == self._done:
                reasons.append(f"{step.name}_{'unavailable' if self._error else 'connecting'}")
            else:
                reasons.append(f"{step.name}_waiting_for_{self._steps[index - 1].name}")
        return reasons

    async def _run(self) -> None:
        for step in self._steps:
            await self._until_done(step)
            self._done += 1
            self._error = None
        self.connected.set()

    async def _until_done(self, step: Step) -> None:
        delay = self._first_delay
        attempts = 0
        while True:
            attempts += 1
            try:
                await step.attempt()
            except Exception as error:  # noqa: BLE001 - any failure means "not yet"
                reason = describe(error)
                if self._error is None:
                    self._log.warning(
                        "%s unavailable (%s); connecting in the background", step.name, reason
                    )
                self._error = reason
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            if attempts > 1:
                self._log.info("%s connected after %d attempts", step.name, attempts)
            return
