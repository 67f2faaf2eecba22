"""`assessment run`: the service itself."""

from __future__ import annotations

import asyncio

from services.assessment import bootstrap
from services.assessment.domain.policy import PolicyError
from services.assessment.entrypoints.cli.common import exits_on, settings_of
from services.assessment.settings import AssessmentSettings
from shared.runtime import tune_garbage_collector


def run() -> None:
    """Run the consumer and the query API (port ASSESSMENT_PORT, default 8081)."""
    settings = settings_of(AssessmentSettings)
    tune_garbage_collector()
    with exits_on(PolicyError, code=2):
        asyncio.run(bootstrap.serve(settings))
