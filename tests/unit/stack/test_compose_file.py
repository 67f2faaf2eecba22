"""docker-compose.yml agrees with the services' Settings: the same variable names,
the required ones set, the default ports published, health-gated start-up; and it is
locked down: SASL_SSL with ACLs, database roles, no Kafka or PostgreSQL port published
except on 127.0.0.1 under a profile, every secret from the git-ignored .env."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.assessment.settings import AssessmentSettings
from services.intake.settings import IntakeSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
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
    by_default = {n for n, service in compose["services"].items() if not service.get("profiles")}
    assert by_default == {"kafka-certs", "kafka", "kafka-acls", "postgres", "intake", "assessment"}
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:4.")


def kafka_config(compose: dict[str, Any]) -> dict[str, str]:
    script = compose["services"]["kafka"]["command"][0]
    lines = script.split("<<EOF", 1)[1].split("\nEOF", 1)[0].strip().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_kafka_speaks_only_sasl_ssl_with_acls(compose: dict[str, Any]) -> None:
    config = kafka_config(compose)
    assert config["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert config["allow.everyone.if.no.acl.found"] == "false"
    assert config["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    pairs = config["listener.security.protocol.map"].split(",")
    protocols = dict(pair.split(":") for pair in pairs)
    plaintext = {name for name, protocol in protocols.items() if protocol != "SASL_SSL"}
    assert plaintext == {"CONTROLLER"}
    assert "CONTROLLER://localhost:" in config["listeners"]
    assert "auto.create.topics.enable" in config
    assert "kafka-acls" in compose["services"]["intake"]["depends_on"]


def test_no_kafka_or_postgres_port_is_published_except_on_loopback_under_a_profile(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        ports = [str(port) for port in service.get("ports", [])]
        if service.get("profiles"):
            assert service["profiles"] == ["host-ports"]
            assert ports, name
            assert all(port.startswith("127.0.0.1:") for port in ports), name
        elif name in SERVICES:
            assert ports == [f"{SERVICES[name][1]}:{SERVICES[name][1]}"]
        else:
            assert not ports, f"{name} publishes {ports}"


def test_every_secret_comes_from_the_env_file_which_is_not_committed(
    compose: dict[str, Any],
) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    required_secrets = set(re.findall(r"\$\{([A-Z_]+):\?set it in \.env\}", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    lines = [line for line in example.splitlines() if re.match(r"^[A-Z_]+=", line)]
    listed = {line.split("=", 1)[0] for line in lines}
    assert required_secrets == listed
    assert not re.search(r"\$\{[A-Z_]+:-", text), "a variable with a default in compose"
    for service in compose["services"].values():
        for variable, value in (service.get("environment") or {}).items():
            if "PASSWORD" in variable or "TOKENS" in variable:
                assert str(value).startswith("${"), f"{variable} is hard-coded"
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


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
    assert depends["kafka"] == {"condition": "service_healthy"}
    assert depends["kafka-acls"] == {"condition": "service_completed_successfully"}
    for dependency, condition in depends.items():
        if condition["condition"] == "service_healthy":
            assert "healthcheck" in services[dependency]
    environment = services[name]["environment"]
    assert environment["KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert environment["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    # its own principal, one the broker's storage is formatted with
    assert environment["KAFKA_SASL_USERNAME"] == name
    assert f"name={name}," in compose["services"]["kafka"]["command"][0]


def test_assessment_reaches_the_compose_database_with_its_roles(compose: dict[str, Any]) -> None:
    environment = compose["services"]["assessment"]["environment"]
    roles = {
        "DATABASE_URL": "service_norm_writer",
        "DATABASE_OWNER_URL": "service_norm_owner",
        "DATABASE_READ_URL": "service_norm_reader",
    }
    for variable, role in roles.items():
        assert re.fullmatch(
            rf"postgresql://{role}:\$\{{DB_[A-Z]+_PASSWORD:\?set it in \.env\}}"
            r"@postgres:5432/service_norm",
            environment[variable],
        ), variable
    hba = compose["configs"]["pg_hba"]["content"]
    [rule] = [line.split() for line in hba.splitlines() if line.startswith("host")]
    assert rule[:2] == ["host", "all"]
    assert rule[3:] == ["all", "scram-sha-256"]
    assert set(rule[2].split(",")) == set(roles.values())
    assert "postgres" in compose["services"]["assessment"]["depends_on"]
    assert "DATABASE_URL" not in compose["services"]["intake"]["environment"]
