"""Schemathesis over both OpenAPI documents, against the running services over a real
socket, with every check: no 5xx, no status, header, content type or body that the
document does not state, schema-violating requests refused, auth not ignored.

The example count is kept modest (about a minute for both); the seed is fixed, so a
failure reproduces. Settings that differ from schemathesis' defaults, and why, are in
tests/e2e/schemathesis.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.tokens import token_digest
from tests.support.assessment_env import READ_TOKEN, AssessmentEnv
from tests.support.processes import ServiceProcess, intake_process
from tests.support.stack import free_port

pytestmark = pytest.mark.e2e

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
INTAKE_TOKEN = "conformance-intake-token"
EXAMPLES = "10"
SEED = "20261202"


def schemathesis(service: ServiceProcess, token: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            SCHEMATHESIS,
            "--config-file",
            str(CONFIG),
            "run",
            f"http://127.0.0.1:{service.port}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.timeout(900)  # about a minute alone; much longer on a machine shared with others
def test_both_services_conform_to_their_openapi_documents(assessment_env: AssessmentEnv) -> None:
    assessment = assessment_env.start().wait_ready()
    intake = intake_process(
        env=assessment_env.env,
        port=free_port(),
        log=assessment_env.logs / "intake.log",
        tokens=f"{token_digest(INTAKE_TOKEN)}=*",
        extra={
            "INTAKE_RAW_GROUP": f"{assessment_env.env['ASSESSMENT_GROUP']}-raw",
            # schemathesis is one very busy client: let every request through to the handler
            "INTAKE_RATE_PER_S": "100000",
            "INTAKE_RATE_BURST": "100000",
        },
    )
    assessment_env.processes.append(intake)
    intake.start().wait_ready()

    # Both at once: the runs are independent and mostly wait on the services.
    runs = {
        "intake": schemathesis(intake, INTAKE_TOKEN),
        "assessment": schemathesis(assessment, READ_TOKEN),
    }
    outputs = {name: run.communicate(timeout=600)[0] for name, run in runs.items()}

    for name, run in runs.items():
        assert run.returncode == 0, f"{name}:\n{outputs[name][-6000:]}"
        assert "No issues found" in outputs[name], outputs[name][-3000:]
        assert " passed" in outputs[name]
