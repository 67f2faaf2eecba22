"""Ops commands that apply the ACL scheme (stack/kafka.sh runs them as `admin`):

    python -m shared.kafka_access_cli platform
    python -m shared.kafka_access_cli add-source NAME --password-file FILE [--partitions N]

The connection comes from the environment (KAFKA_BOOTSTRAP, KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD(_FILE), KAFKA_CA_FILE, KAFKA_TOPIC_PREFIX).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from shared.kafka_acls import (
    any_source_acls,
    assessment_acls,
    grant,
    intake_acls,
    set_password,
    source_acls,
    source_principal,
)
from shared.kafka_topics import TopicSpec, ensure_topics
from shared.settings import KafkaSettings, SettingsError, load_settings

INTAKE_PRINCIPAL = "intake"
ASSESSMENT_PRINCIPAL = "assessment"
INTAKE_GROUP = "intake-raw"  # services/intake/settings.py DEFAULT_RAW_GROUP
ASSESSMENT_GROUP = "assessment"


async def platform(settings: KafkaSettings) -> None:
    topics = settings.topics
    await grant(
        settings.kafka,
        [
            *intake_acls(INTAKE_PRINCIPAL, topics, group=INTAKE_GROUP),
            *assessment_acls(ASSESSMENT_PRINCIPAL, topics, group=ASSESSMENT_GROUP),
        ],
    )


async def add_source(
    settings: KafkaSettings, name: str, password: str, *, partitions: int, any_source: bool
) -> None:
    topics = settings.topics
    principal = name if any_source else source_principal(name)
    await set_password(settings.kafka, principal, password)
    if any_source:
        await grant(settings.kafka, any_source_acls(principal, topics))
        return
    topic = topics.raw_of_source(name)
    await ensure_topics(kafka=settings.kafka, specs=(TopicSpec(topic),), partitions=partitions)
    await grant(settings.kafka, source_acls(principal, topics, source=name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.kafka_access_cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("platform", help="the services' ACLs")
    source = commands.add_parser("add-source", help="a source's principal, raw topic and ACLs")
    source.add_argument("name")
    source.add_argument("--password-file", type=Path, required=True)
    source.add_argument("--partitions", type=int, default=6)
    source.add_argument(
        "--any-source", action="store_true", help="a gateway principal NAME for intake.raw.v1"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(KafkaSettings)
    except SettingsError:
        return 2
    if args.command == "platform":
        asyncio.run(platform(settings))
    else:
        password = args.password_file.read_text().splitlines()[0]
        asyncio.run(
            add_source(
                settings,
                args.name,
                password,
                partitions=args.partitions,
                any_source=args.any_source,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
