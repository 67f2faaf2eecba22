"""docker-compose.yml agrees with the services' Settings: the same variable names,
the required ones set, the default ports published, health-gated start-up; and it is
locked down: SASL_SSL with ACLs, database roles, no Kafka or PostgreSQL port published
except on 127.0.0.1 under a profile, every secret from the git-ignored .env."""

from __future__ import annotations

import os
import re
import subprocess
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


NODE_HOSTS = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}


def kafka_config(
    compose: dict[str, Any], tmp_path: Path, *, node: str = "kafka", brokers: int = 1
) -> dict[str, str]:
    """The server.properties a node's script writes, for KAFKA_BROKERS=`brokers`: the
    script up to the broker's start, run by bash, with its configuration file moved."""
    service = compose["services"][node]
    script = service["command"][0].replace("$$", "$")
    writes_config = script.split("cat > /tmp/admin.properties", 1)[0]
    config = tmp_path / "server.properties"
    environment = {
        **{k: str(v) for k, v in service["environment"].items()},
        "KAFKA_BROKERS": str(brokers),
        "KAFKA_BROKER_PASSWORD": "b",
        "KAFKA_KEYSTORE_PASSWORD": "k",
    }
    subprocess.run(
        ["bash", "-euc", writes_config.replace("/tmp/server.properties", str(config))],
        env={"PATH": os.environ["PATH"], **environment},
        check=True,
    )
    lines = config.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def protocols(config: dict[str, str]) -> dict[str, str]:
    pairs = config["listener.security.protocol.map"].split(",")
    return dict(pair.split(":") for pair in pairs)


@pytest.mark.parametrize("brokers", [1, 3])
def test_kafka_speaks_only_sasl_ssl_with_acls(
    compose: dict[str, Any], tmp_path: Path, brokers: int
) -> None:
    config = kafka_config(compose, tmp_path, brokers=brokers)
    assert config["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert config["allow.everyone.if.no.acl.found"] == "false"
    assert config["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert config["inter.broker.listener.name"] == "SASL_SSL"
    other = {name: p for name, p in protocols(config).items() if p != "SASL_SSL"}
    if brokers == 1:  # the controller in plaintext, on localhost only
        assert other == {"CONTROLLER": "PLAINTEXT"}
        assert "CONTROLLER://localhost:" in config["listeners"]
    else:  # the controllers reach each other: TLS, and only with the brokers' certificate
        assert other == {"CONTROLLER": "SSL"}
        assert config["listener.name.controller.ssl.client.auth"] == "required"
        assert "ANONYMOUS" not in config["super.users"]
    assert config["auto.create.topics.enable"] == "false"
    assert "kafka-acls" in compose["services"]["intake"]["depends_on"]


def test_the_cluster_profile_runs_three_nodes_with_three_copies(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    assert [n for n in NODE_HOSTS if services[n].get("profiles")] == ["kafka-2", "kafka-3"]
    assert all(services[n]["profiles"] == ["cluster"] for n in ("kafka-2", "kafka-3"))
    data = {n: services[n]["volumes"][0].split(":")[0] for n in NODE_HOSTS}
    assert len(set(data.values())) == 3, data
    for host, node_id in NODE_HOSTS.items():
        config = kafka_config(compose, tmp_path, node=host, brokers=3)
        assert config["node.id"] == str(node_id)
        assert config["controller.quorum.voters"] == ",".join(
            f"{n}@{h}:9093" for h, n in NODE_HOSTS.items()
        )
        assert f"SASL_SSL://{host}:9092" in config["advertised.listeners"]
        for setting in ("default.replication.factor", "offsets.topic.replication.factor"):
            assert config[setting] == "3"
        assert config["transaction.state.log.replication.factor"] == "3"
        assert config["min.insync.replicas"] == config["transaction.state.log.min.isr"] == "2"
    # A single node stays one: replication factor 1; the others refuse to run alone.
    assert kafka_config(compose, tmp_path)["default.replication.factor"] == "1"
    with pytest.raises(subprocess.CalledProcessError):
        kafka_config(compose, tmp_path, node="kafka-2", brokers=1)
    # Every node's name is in the certificate; the services bootstrap from all three.
    assert all(f"dns:{host}" in services["kafka-certs"]["command"][0] for host in NODE_HOSTS)
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "# KAFKA_BROKERS=3" in example
    assert "# KAFKA_BOOTSTRAP_SERVERS=kafka:9092,kafka-2:9092,kafka-3:9092" in example
    for name in (*SERVICES, "kafka-acls"):
        for node in ("kafka-2", "kafka-3"):
            assert services[name]["depends_on"][node] == {
                "condition": "service_healthy",
                "required": False,  # ignored without the profile
            }


def test_no_kafka_or_postgres_port_is_published_except_on_loopback_under_a_profile(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        ports = [str(port) for port in service.get("ports", [])]
        if service.get("profiles") == ["cluster"]:
            assert not ports, f"{name} publishes {ports}"
        elif service.get("profiles"):
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
    defaults = set(re.findall(r"\$\{([A-Z_]+):-", text))
    assert defaults == {"KAFKA_BROKERS", "KAFKA_BOOTSTRAP_SERVERS"}, "only the mode has a default"
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
    assert environment["KAFKA_BOOTSTRAP"] == "${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}"
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
