"""One chaos run: start the system, feed the load, kill -9 each part in turn, check.

Repeatable by seed: the seed picks the history, the pauses between faults, how long
each part stays down and when a rebuild is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka.errors import KafkaError

from bench.generator import Generator
from shared.kafka_topics import read_to_end
from tests.chaos.load import Answer, Load
from tests.chaos.parts import INTAKE_TOKEN, READ_TOKEN, System, ready
from tests.support.assessment_env import oracle
from tests.support.processes import tagged_processes
from tests.support.projections import live_schema, read_projection

PLANS = {
    "short": ["assessment", "rebuild", "intake", "postgres", "broker"],
    "long": [
        "assessment", "intake", "assessment", "postgres", "rebuild", "broker",
        "assessment", "intake", "rebuild", "postgres", "broker", "assessment",
    ],
}  # fmt: skip
RECOVERY_TIMEOUT_S = 180.0
MAX_EVENTS = 50_000  # the seeded history's length; a run sends a prefix of it


@dataclass
class Fault:
    kind: str
    at_s: float  # since the load started
    down_s: float
    recovery_s: float | None = None
    note: str = ""
    killed_at: float = 0.0  # monotonic clock
    restarted_at: float = 0.0
    intake: list[Answer] = field(default_factory=list)  # from the kill to the recovery
    waited_on: Counter[str] = field(default_factory=Counter)  # what recovery polls missed

    def intake_line(self) -> str:
        """Intake's answers from the kill to the recovery: count, p99, statuses."""
        if not self.intake:
            return "no request"
        statuses = Counter(a.status for a in self.intake)
        return (
            f"{len(self.intake)} requests, p99 {percentile(self.intake, 0.99) * 1000:.0f} ms, "
            + ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items()))
        )


def percentile(answers: list[Answer], q: float) -> float:
    """The q-quantile of the answers' durations (nearest rank)."""
    ordered = sorted(a.seconds for a in answers)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Report:
    seed: int
    plan: str
    brokers: int = 1
    instances: int = 1
    faults: list[Fault] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    lost_in_log: int = 0
    copies_in_log: int = 0
    unaccepted_in_log: int = 0
    lost_in_projection: int = 0
    doubled_in_projection: int = 0
    matches_oracle: bool = False
    refused: list[tuple[int, str]] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        recovered = all(f.recovery_s is not None for f in self.faults)
        return (
            recovered
            and self.matches_oracle
            and self.lost_in_log == 0
            and self.unaccepted_in_log == 0
            and self.lost_in_projection == 0
            and self.doubled_in_projection == 0
            and not self.refused
            and not self.left_running
            and not self.problems
        )

    def lines(self) -> list[str]:
        out = [
            f"chaos seed={self.seed} plan={self.plan} brokers={self.brokers} "
            f"assessment instances={self.instances}",
            "faults (kill -9, in turn):",
        ]
        for f in self.faults:
            recovered = "NOT RECOVERED" if f.recovery_s is None else f"{f.recovery_s:6.1f} s"
            out.append(
                f"  t={f.at_s:6.1f} s  {f.kind:<10} down {f.down_s:4.1f} s  "
                f"restart -> ready & caught up: {recovered}  {f.note}"
            )
            out.append(f"{'':13}intake from kill to recovery: {f.intake_line()}")
            if f.waited_on:
                polls = ", ".join(f"{what} x{n}" for what, n in f.waited_on.most_common())
                out.append(f"{'':13}recovery polls (0.2 s apart) that found: {polls}")
        out.append(
            "recovery per kind (restart -> /readyz 200 on both services and all that events.v1 "
            "held then folded; for a cluster's broker also no partition under-replicated):"
        )
        kinds = sorted({f.kind for f in self.faults})
        for kind in kinds:
            times = [f.recovery_s for f in self.faults if f.kind == kind and f.recovery_s]
            if times:
                out.append(
                    f"  {kind:<10} n={len(times)}  median {statistics.median(times):5.1f} s"
                    f"  max {max(times):5.1f} s"
                )
        out += [
            f"accepted (202) events: {self.accepted}",
            f"lost: {self.lost_in_log} from events.v1, {self.lost_in_projection} from the "
            "projections",
            f"doubled in the projections: {self.doubled_in_projection}",
            f"copies in events.v1 from client retries (deduped by id): {self.copies_in_log}",
            f"in events.v1 but never answered 202: {self.unaccepted_in_log}",
            f"projections equal the domain oracle: {self.matches_oracle}",
            "intake's answers: "
            + ", ".join(f"{code} x{n}" for code, n in sorted(self.statuses.items())),
        ]
        out += [f"refused (not retryable): {status} {body}" for status, body in self.refused]
        out += [f"still running after the run: {line}" for line in self.left_running]
        out += [f"problem: {problem}" for problem in self.problems]
        out.append("PASS" if self.ok else "FAIL")
        return out


def ends_of(status: dict[str, Any]) -> dict[int, int] | None:
    """partition -> end offset, from /v1/status (None while an end is unknown)."""
    ends = {p["partition"]: p["end_offset"] for p in status["partitions"]}
    if not ends or any(end is None for end in ends.values()):
        return None
    return ends


def lag_of(status: dict[str, Any], target: dict[int, int] | None) -> int | None:
    """Records not folded: /v1/status's lag (target None), or those below `target`."""
    if target is None:
        lag = status.get("lag")
        return lag if isinstance(lag, int) else None
    if not target:
        return None
    positions = {p["partition"]: p["position"] for p in status["partitions"]}
    folded = {p: -1 if positions.get(p) is None else positions[p] for p in target}
    return sum(max(0, end - (folded[p] + 1)) for p, end in target.items())


def progress(message: str) -> None:
    """What the run is doing, as it does it (stderr; the report goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} chaos: {message}", file=sys.stderr, flush=True)


def plan_for(plan: str, instances: int) -> list[str]:
    """The plan's faults; with several assessment instances each is killed at least
    once (they are killed in turn), the others folding meanwhile."""
    kinds = list(PLANS[plan])
    return kinds + ["assessment"] * max(0, instances - kinds.count("assessment"))


class Chaos:
    def __init__(
        self, *, seed: int, plan: str, events: int, brokers: int, logs: Path, instances: int = 1
    ) -> None:
        self.rng = random.Random(seed)
        self.report = Report(seed=seed, plan=plan, brokers=brokers, instances=instances)
        self.plan = plan_for(plan, instances)
        self.tag = f"chaos-{uuid.uuid4().hex[:8]}"
        self.system = System.create(self.tag, logs=logs, brokers=brokers, instances=instances)
        self.assessment_kills = 0
        history = Generator(seed=seed, units=12, staff_per_unit=5)
        self.load = Load(
            history=history.events(MAX_EVENTS, span_days=600),
            minimum=events,
            batch=10,
            pause_s=0.2,
        )

    async def run(self) -> Report:
        try:
            await self.system.start()
            await self._under_load()
            await self._check()
        finally:
            await asyncio.to_thread(self.system.stop)
            await self._check_nothing_left()
        return self.report

    async def _under_load(self) -> None:
        started = time.monotonic()
        sending = asyncio.create_task(self.load.run(self.system.intake_url, INTAKE_TOKEN))
        try:
            for kind in self.plan:
                await asyncio.sleep(self.rng.uniform(1.0, 3.0))
                fault = Fault(kind, time.monotonic() - started, self.rng.uniform(0.5, 3.0))
                progress(f"kill -9 {kind} (down {fault.down_s:.1f} s)")
                fault.killed_at = time.monotonic()
                await getattr(self, f"_kill_{kind}")(fault)
                progress(f"{kind} restarted {fault.note}")
                fault.recovery_s = await self._recovery(fault)
                fault.intake = self.load.between(fault.killed_at, time.monotonic())
                progress(f"{kind}: recovered in {fault.recovery_s} s; intake {fault.intake_line()}")
                self.report.faults.append(fault)
        except BaseException:
            sending.cancel()  # a part that did not come back: the client would retry forever
            raise
        finally:
            self.load.faults_over.set()
            with contextlib.suppress(asyncio.CancelledError):
                await sending

    # Each fault: kill -9, stay down a while, restart, and return the restart instant.
    async def _kill_assessment(self, fault: Fault) -> None:
        instances = self.system.assessments
        turn = self.assessment_kills % len(instances)
        self.assessment_kills += 1
        service = instances[turn]
        if len(instances) > 1:
            fault.note = f"instance {turn + 1} of {len(instances)}"
        service.kill()
        await asyncio.sleep(fault.down_s)
        fault.restarted_at = time.monotonic()
        service.start()

    async def _kill_intake(self, fault: Fault) -> None:
        service = self.system.intake
        assert service is not None
        service.kill()
        await asyncio.sleep(fault.down_s)
        fault.restarted_at = time.monotonic()
        service.start()

    async def _kill_rebuild(self, fault: Fault) -> None:
        replay = self.system.start_replay()
        await asyncio.sleep(fault.down_s + 1.0)  # into the rebuild (start-up takes ~1 s)
        running = replay.poll() is None
        replay.kill()
        await asyncio.to_thread(replay.wait, 30)
        fault.note = "killed mid-rebuild" if running else "the rebuild had finished"
        fault.restarted_at = time.monotonic()
        again = self.system.start_replay()
        code = await asyncio.to_thread(again.wait, RECOVERY_TIMEOUT_S)
        if code != 0:
            self.report.problems.append(f"the replay after a killed one exited {code}")

    async def _kill_postgres(self, fault: Fault) -> None:
        self.system.postgres.kill()
        await asyncio.sleep(fault.down_s)
        fault.restarted_at = time.monotonic()
        await self._retry_start(self.system.postgres.start, "postgres")

    async def _kill_broker(self, fault: Fault) -> None:
        victim, fault.note = await self.system.brokers.victim(self.system.topics.events)
        victim.kill()
        await asyncio.sleep(fault.down_s)
        fault.restarted_at = time.monotonic()
        await self._retry_start(victim.start, "broker")

    async def _retry_start(self, start: Any, what: str) -> None:
        """A killed server's leftovers (backends, a port in TIME_WAIT) may hold it back
        for a moment after kill -9: the stack script is run again until it starts."""
        deadline = time.monotonic() + 60
        while True:
            try:
                await asyncio.to_thread(start)
                return
            except RuntimeError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not start again") from error
                await asyncio.sleep(0.5)

    async def _recovery(self, fault: Fault) -> float | None:
        """Seconds from the restart until both services answer /readyz and the
        assessment has folded every record events.v1 held when they first both did
        (and, after a broker fault, no partition is under-replicated). Not "lag 0": under
        the steady load a fold is often one batch behind when looked at, the more so on
        a cluster, where an acknowledgement waits for two copies."""
        restarted = fault.restarted_at
        deadline = restarted + RECOVERY_TIMEOUT_S
        target: dict[int, int] = {}
        while time.monotonic() < deadline:
            missing = await self._missing(broker=fault.kind == "broker", target=target)
            if missing is None:
                return time.monotonic() - restarted
            fault.waited_on[missing] += 1
            await asyncio.sleep(0.2)
        return None

    async def _missing(
        self, *, broker: bool = False, target: dict[int, int] | None = None
    ) -> str | None:
        """What recovery still waits for (None: nothing): a service not ready, records
        not folded, or (after a broker fault) an under-replicated partition. Records not
        folded: up to the partitions' ends now (`target` None), or up to `target`, the
        ends as they were when both services were first found ready (an empty `target`
        is filled then)."""
        intake = self.system.intake
        assert intake is not None
        if not await asyncio.to_thread(ready, intake.port):
            return "intake not ready"
        for assessment in self.system.assessments:
            if not await asyncio.to_thread(ready, assessment.port):
                return "assessment not ready"
        status = await assessment_status(self.system)
        if status is not None and target is not None and not target:
            target.update(ends_of(status) or {})
        lag = None if status is None else lag_of(status, target)
        if lag is None:
            return "lag unknown"
        if lag > 0:
            return "lag 1-9" if lag < 10 else "lag 10-99" if lag < 100 else "lag 100+"
        if broker and not await self._fully_replicated():
            return "under-replicated partitions"
        return None

    async def _recovered(self) -> bool:
        return await self._missing() is None

    async def _fully_replicated(self) -> bool:
        """A restarted node of a cluster caught up: no partition is under-replicated."""
        try:
            return await self.system.brokers.under_replicated() == 0
        except KafkaError:
            return False

    async def _check(self) -> None:
        report, load = self.report, self.load
        if len(load.accepted) < load.minimum:
            report.problems.append(f"only {len(load.accepted)} events were accepted")
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while not await self._recovered():
            if time.monotonic() > deadline:
                report.problems.append("never caught up after the load")
                break
            await asyncio.sleep(0.2)
        await compare_outcome(self.system, load, report)

    async def _check_nothing_left(self) -> None:
        deadline = time.monotonic() + 30
        while left := tagged_processes(self.tag):
            if time.monotonic() > deadline:
                self.report.left_running = left
                return
            await asyncio.sleep(0.3)


async def assessment_status(system: System) -> dict[str, Any] | None:
    """The assessment's /v1/status (None when it does not answer)."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(
                f"{system.assessment_url}/v1/status",
                headers={"Authorization": f"Bearer {READ_TOKEN}"},
            )
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    status: dict[str, Any] = answer.json()
    return status


async def compare_outcome(system: System, load: Load, report: Report) -> None:
    """Fill `report` in from what intake answered, what events.v1 holds (read_committed)
    and the live projection, which must equal the domain oracle on the accepted events.
    Call it once the load is over and the assessment has folded everything."""
    report.statuses = load.statuses
    report.refused = load.refused
    accepted = {event["id"]: event for event in load.accepted}
    report.accepted = len(load.accepted)
    logged = await read_to_end(
        kafka=system.brokers.kafka, topic=system.topics.events, limit=10 * MAX_EVENTS
    )
    in_log = Counter(orjson.loads(r.value)["id"] for r in logged if r.value)
    report.lost_in_log = len(set(accepted) - set(in_log))
    report.copies_in_log = sum(n - 1 for n in in_log.values())
    report.unaccepted_in_log = len(set(in_log) - set(accepted))

    conn = await system.connect()
    try:
        projection = await read_projection(conn, await live_schema(conn))
    finally:
        await conn.close()
    report.lost_in_projection = max(0, len(accepted) - projection.events)
    report.doubled_in_projection = max(0, projection.events - len(accepted))
    expected = oracle(list(accepted.values()))
    report.matches_oracle = projection.rows() == (
        list(expected.warnings),
        list(expected.alerts),
        list(expected.complaints),
    )


def run_chaos(
    *, seed: int, plan: str, events: int, logs: Path, brokers: int = 1, instances: int = 1
) -> Report:
    chaos = Chaos(
        seed=seed, plan=plan, events=events, brokers=brokers, logs=logs, instances=instances
    )
    return asyncio.run(chaos.run())
