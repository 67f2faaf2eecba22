"""Kafka admin requests aiokafka's admin client lacks: create/delete several ACL
bindings at once, and set a user's SCRAM credentials (AlterUserScramCredentials,
KIP-554). Built on aiokafka's own protocol types; sent with `AIOKafkaClient.send`."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any, ClassVar

from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

SCRAM_SHA_512 = 2  # the mechanism's id in AlterUserScramCredentials
SCRAM_ITERATIONS = 8192  # Kafka's minimum is 4096

# One ACL binding as the protocol spells it: (resource_type, resource_name,
# pattern_type, principal, host, operation, permission_type).
Binding = tuple[int, str, int, str, str, int, int]


class CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 30

    def __init__(self, bindings: Sequence[Binding]) -> None:
        self._bindings = list(bindings)

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._bindings)


class DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    """Deletes exactly the given bindings (each used as a filter that matches itself)."""

    API_KEY = 31

    def __init__(self, bindings: Sequence[Binding]) -> None:
        self._bindings = list(bindings)

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class(self._bindings)


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]  # noqa: N801
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]  # noqa: N801
    FLEXIBLE_VERSION: ClassVar[bool] = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("tags", TaggedFields),
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class UpsertScramSha512(Request[AlterUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    """Sets `user`'s SCRAM-SHA-512 password (the broker stores only the salted hash,
    which is all the request carries)."""

    API_KEY = 51

    def __init__(self, user: str, password: str) -> None:
        salt = secrets.token_bytes(32)
        salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
        self._upsertion: tuple[Any, ...] = (user, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted, {})

    def build(
        self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
    ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class([], [self._upsertion], {})


def errors_in(response: Any) -> list[str]:
    """The error messages of a CreateAcls / DeleteAcls / AlterUserScramCredentials answer."""
    acl_parts = [
        *(getattr(response, "creation_responses", None) or []),
        *(getattr(response, "filter_responses", None) or []),
    ]
    found = [f"error {part[0]}: {part[1]}" for part in acl_parts if part[0]]
    users = getattr(response, "results", None) or []
    found.extend(f"{part[0]}: error {part[1]}: {part[2]}" for part in users if part[1])
    return found
