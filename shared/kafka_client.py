"""How every Kafka client of the platform connects: the ONE place that turns the
connection settings into aiokafka options or a FastStream security object.

Services, ops commands, benchmarks, the demo and the tests all build their producers,
consumers, admin clients and FastStream brokers through `aiokafka_options` and
`faststream_options`, so that TLS and SASL reach every client alike.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

# aiokafka and FastStream are imported where they are used: settings (this module's
# KafkaConnection) are read by every command, most of which never touch Kafka.
if TYPE_CHECKING:
    from faststream.security import BaseSecurity

SecurityProtocol = Literal["PLAINTEXT", "SASL_SSL"]
SASL_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaConnection:
    """Where the cluster is and who this client is. With SASL_SSL: SCRAM-SHA-512 over
    TLS, the broker's certificate checked against `ca_file` (the system's CAs when
    None), host name included."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        if self.security_protocol == "SASL_SSL" and not (self.username and self.password):
            raise ValueError("SASL_SSL needs a username and a password")

    @property
    def secured(self) -> bool:
        return self.security_protocol == "SASL_SSL"

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers, one host:port each. aiokafka splits a comma-separated
        string itself, FastStream does not: it took "a:1,b:2" for one host name."""
        return [server.strip() for server in self.bootstrap.split(",") if server.strip()]

    def as_principal(self, username: str, password: str) -> KafkaConnection:
        """The same cluster, as another principal."""
        return replace(self, username=username, password=password)

    def with_bootstrap(self, bootstrap: str) -> KafkaConnection:
        return replace(self, bootstrap=bootstrap)

    def environment(self) -> dict[str, str]:
        """The variables (KafkaSettings) that give a child process this connection; the
        empty ones blank out what it would otherwise inherit (an empty variable counts
        as unset)."""
        return {
            "KAFKA_BOOTSTRAP": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "KAFKA_SASL_USERNAME": self.username or "",
            "KAFKA_SASL_PASSWORD": self.password or "",
            "KAFKA_SASL_PASSWORD_FILE": "",
            "KAFKA_CA_FILE": str(self.ca_file) if self.ca_file else "",
        }

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        # One context per connection: building it reads the CA file.
        if not self.secured:
            return None
        from aiokafka.helpers import create_ssl_context

        context: ssl.SSLContext = create_ssl_context(
            cafile=str(self.ca_file) if self.ca_file else None
        )
        return context


def aiokafka_options(kafka: KafkaConnection) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient /
    AIOKafkaClient."""
    options: dict[str, Any] = {"bootstrap_servers": kafka.servers}
    if kafka.secured:
        options |= {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": kafka.username,
            "sasl_plain_password": kafka.password,
            "ssl_context": kafka.ssl_context,
        }
    return options


def faststream_options(kafka: KafkaConnection) -> dict[str, Any]:
    """Keyword arguments for FastStream's KafkaBroker: the bootstrap servers and the
    security object (which also documents the scheme in the AsyncAPI document)."""
    from faststream.security import SASLScram512

    security: BaseSecurity | None = None
    if kafka.secured:
        assert kafka.username is not None
        assert kafka.password is not None
        security = SASLScram512(
            username=kafka.username,
            password=kafka.password,
            ssl_context=kafka.ssl_context,
            use_ssl=True,
        )
    return {"bootstrap_servers": kafka.servers, "security": security}
