"""Deterministic ids: the same history gives the same ids, whatever the policy.

Ids are built only from event identities and periods, never from policy values, so a
what-if replay under another policy yields ids comparable with the stored ones.
"""

from __future__ import annotations

import hashlib

WARNING_PREFIX = "W"
ALERT_PREFIX = "A"

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in ids, units or codes


def stable_id(prefix: str, *parts: str | int) -> str:
    joined = _SEPARATOR.join(map(str, parts))
    return f"{prefix}-{hashlib.sha256(joined.encode('utf-8')).hexdigest()[:24]}"
