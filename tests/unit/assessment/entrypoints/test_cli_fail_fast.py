"""The service refuses to start, naming the problem, on bad settings or a bad policy —
before it connects to anything (the URLs below lead nowhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.policies import policy_variant

pytestmark = pytest.mark.unit
ASSESSMENT = str(Path(sys.executable).parent / "assessment")
NOWHERE = {
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
    "READ_TOKENS": "sha256:" + "0" * 64,
}


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ASSESSMENT, *args],
        env={**os.environ, **NOWHERE, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_policy_file_names_the_field(tmp_path: Path) -> None:
    policy = policy_variant(tmp_path / "policy.toml", ("monthly_limit = 3", "monthly_limit = -1"))

    done = run("run", ASSESSMENT_POLICY_FILE=str(policy))

    assert done.returncode == 2
    assert "attendance.monthly_limit" in done.stdout + done.stderr


def test_bad_settings_name_every_variable() -> None:
    done = run("run", READ_TOKENS="", ASSESSMENT_PORT="99999")

    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "READ_TOKENS" in output
    assert "ASSESSMENT_PORT" in output
    assert "Traceback" not in output
