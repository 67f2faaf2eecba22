"""docker-compose.yml agrees with the services' Settings: the same variable names,
the required ones set, the default ports published, health-gated start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.assessment.settings import AssessmentSettings
from services.intake.settings import IntakeSettings

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
SERVICES: dict[str, tuple[type[BaseSettings], int]] = {
    "intake": (IntakeSettings, 8080),
    "assessment": (AssessmentSettings, 8081),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def env_names(settings: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in settings.model_fields}


def required(settings: type[BaseSettings]) -> set[str]:
    return {name.upper() for name, field in settings.model_fields.items() if field.is_required()}


def test_the_stack_has_kafka_postgres_and_both_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "postgres", "intake", "assessment"}
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    assert "KAFKA_PROCESS_ROLES" in compose["services"]["kafka"]["environment"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_variables_are_settings_fields(compose: dict[str, Any], name: str) -> None:
    settings, _ = SERVICES[name]
    environment = set(compose["services"][name]["environment"])
    assert environment <= env_names(settings), environment - env_names(settings)
    assert required(settings) <= environment, required(settings) - environment


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_port_matches_the_settings(compose: dict[str, Any], name: str) -> None:
    settings, default_port = SERVICES[name]
    service = compose["services"][name]
    port_variable = f"{name.upper()}_PORT"
    assert settings.model_fields[port_variable.lower()].default == default_port
    assert int(service["environment"][port_variable]) == default_port
    assert f"{default_port}:{default_port}" in service["ports"]
    assert service["environment"][f"{name.upper()}_HOST"] == "0.0.0.0"
    assert f"127.0.0.1:{default_port}/readyz" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_services_wait_for_healthy_dependencies(compose: dict[str, Any], name: str) -> None:
    services = compose["services"]
    depends = services[name]["depends_on"]
    assert "kafka" in depends
    assert all(condition["condition"] == "service_healthy" for condition in depends.values())
    assert all("healthcheck" in services[dependency] for dependency in depends)
    kafka = services[name]["environment"]["KAFKA_BOOTSTRAP"]
    assert kafka == "kafka:9092"


def test_assessment_reaches_the_compose_database(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]["environment"]
    url = compose["services"]["assessment"]["environment"]["DATABASE_URL"]
    expected = (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert url == expected
    assert "postgres" in compose["services"]["assessment"]["depends_on"]
