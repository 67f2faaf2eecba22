"""Bearer tokens, kept as digests: configuration holds `sha256:<hex>`, never the token.

An unsalted SHA-256 is enough here, as for GitHub's API tokens: tokens are random
strings of 256 bits (`new_token`), so there is no dictionary to try and no password
to recover; a slow salted hash (bcrypt, argon2) protects low-entropy secrets and would
cost milliseconds on every request for nothing. A digest that leaks (a log, a compose
file, `ps`) does not let anyone authenticate.

Matching compares the presented token's digest with EVERY configured digest through
`hmac.compare_digest` and never stops early or looks the secret up in a dict, so the
time taken says nothing about which digest matched or how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

DIGEST_PREFIX = "sha256:"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
TOKEN_BYTES = 32  # 256 bits of randomness; token_urlsafe makes 43 characters of it

T = TypeVar("T")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The `sha256:<hex>` line that configures `token`."""
    return DIGEST_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def is_digest(text: str) -> bool:
    return _DIGEST.match(text) is not None


def check_digest(text: str, where: str) -> str:
    """`text` if it is a digest; otherwise a settings error that never repeats `text`
    (it may be a plain token pasted by mistake)."""
    if not is_digest(text):
        raise ValueError(
            f"{where} is not a token digest: configure sha256:<64 lower-case hex digits>, "
            "never the token itself (`tokens new` prints both)"
        )
    return text


class DigestMatcher(Generic[T]):
    """Finds what a presented token grants, in time independent of which digest matches."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._entries: Sequence[tuple[bytes, T]] = [
            (bytes.fromhex(digest.removeprefix(DIGEST_PREFIX)), value) for digest, value in entries
        ]

    def match(self, token: str) -> T | None:
        presented = hashlib.sha256(token.encode()).digest()
        found: T | None = None
        for known, value in self._entries:
            if hmac.compare_digest(known, presented):
                found = value  # no early exit: every digest is compared
        return found
