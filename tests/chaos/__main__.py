"""`python -m tests.chaos [--seed N] [--plan short|long] [--events N] [--brokers 1]
[--instances 1]`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.chaos.run import PLANS, run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plan", choices=sorted(PLANS), default="long")
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--brokers", type=int, default=1, help="3: cluster mode (item 3)")
    parser.add_argument(
        "--instances", type=int, default=1, help="assessment instances, killed in turn"
    )
    parser.add_argument("--logs", type=Path, default=None, help="where the parts log")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.mkdtemp(prefix="chaos-logs-"))
    report = run_chaos(
        seed=args.seed,
        plan=args.plan,
        events=args.events,
        logs=logs,
        brokers=args.brokers,
        instances=args.instances,
    )
    print("\n".join(report.lines()))
    print(f"logs: {logs}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
