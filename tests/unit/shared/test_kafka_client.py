"""A bootstrap list of several nodes reaches every client as several servers."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker

from shared.kafka_client import KafkaConnection, aiokafka_options, faststream_options

pytestmark = pytest.mark.unit

CLUSTER = KafkaConnection("localhost:29092, localhost:29094,localhost:29096")
NODES = ["localhost:29092", "localhost:29094", "localhost:29096"]


def test_faststream_gets_each_node_not_one_host_named_by_the_whole_list() -> None:
    # FastStream wraps a string in a list: "a:1,b:2" became one host name that does
    # not resolve, and the assessment never connected to a cluster.
    broker = KafkaBroker(**faststream_options(CLUSTER))

    assert broker.specification.url == NODES


def test_aiokafka_clients_get_each_node() -> None:
    assert aiokafka_options(CLUSTER)["bootstrap_servers"] == NODES


def test_a_single_node_is_a_list_of_one() -> None:
    assert KafkaConnection("localhost:9092").servers == ["localhost:9092"]
