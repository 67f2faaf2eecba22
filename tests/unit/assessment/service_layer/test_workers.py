"""The replay's and rerule's worker processes (bulk.start_workers): forked, when asked,
only from a process with no other thread and no event loop running.

A forked child copies only the thread that forks; a lock another thread held then stays
held in the child for good. Each case runs in a fresh interpreter (pytest's own process
may have threads), and tells a forked worker from a spawned one by what it sees of a
value this module holds: set at run time before the workers start, a forked worker sees
it, a spawned one imports the module afresh and sees the value as imported.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from services.assessment.service_layer.bulk import start_workers

pytestmark = pytest.mark.unit

AS_IMPORTED = "as imported"
SET_AT_RUN_TIME = "set at run time"
_seen = [AS_IMPORTED]
_MODULE = "tests.unit.assessment.service_layer.test_workers"  # pytest imports it by another name


def _nothing() -> None:
    """The workers' initializer."""


def _value() -> str:
    return _seen[0]


def _what_a_worker_sees() -> str:
    _seen[0] = SET_AT_RUN_TIME
    executor = start_workers(_nothing, 1, forked=True)
    try:
        return executor.submit(_value).result(timeout=60)
    finally:
        executor.shutdown()


def main(case: str) -> None:
    """Run in a fresh interpreter: prints what the worker saw."""
    if case == "thread":
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        print(_what_a_worker_sees())
        stop.set()
    elif case == "loop":

        async def under_a_loop() -> str:
            return _what_a_worker_sees()

        print(asyncio.run(under_a_loop()))
    else:
        print(_what_a_worker_sees())


@pytest.mark.parametrize(
    ("case", "seen"),
    [
        ("alone", SET_AT_RUN_TIME),  # forked: it starts with this process's state
        ("thread", AS_IMPORTED),  # another thread runs: spawned
        ("loop", AS_IMPORTED),  # an event loop runs (its selector, its connections): spawned
    ],
)
def test_workers_are_forked_only_from_a_single_thread_without_a_loop(case: str, seen: str) -> None:
    code = f"from {_MODULE} import main; main({case!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == seen
