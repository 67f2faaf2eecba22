"""The locks that let several live folds run at once and stay exact.

Every live fold holds its version's writer lock shared (`versions.py`); where two
folds could meet, they take transaction-level advisory locks on what they touch:
- the partitions of the batch, before their stored positions are read (after a
  rebalance the old and the new owner of a partition fold one after the other, and
  the later one skips what the earlier committed);
- the complaint and attendance (staff, month) scopes, before their facts are read;
- the units, before the first row of theirs is written: a unit covers its unit-years,
  its ranking counts (kept by statement triggers, migration 006) and the order of its
  change-feed records in the outbox (ids are taken while the lock is held, so a later
  transaction on the unit queues after the earlier one committed).
The pairs of event identity are held by their rows instead (`claim_identities`): a
batch holds thousands of them, and the advisory lock table is shared and bounded.

Classes are taken in this order and the keys of each call in one sorted order (their
hash), so two folds never wait on each other in a circle; a key a fold needs after
its class was taken (never, by the rules' shape) is taken out of order, and a
deadlock that could then follow is detected by PostgreSQL and the batch retried.
"""

from __future__ import annotations

from collections.abc import Collection

from services.assessment.adapters.db import Connection

PARTITION_LOCK_CLASS = 7_001_010
SCOPE_LOCK_CLASS = 7_001_011
UNIT_LOCK_CLASS = 7_001_012

# `{keys}` is a query of one text column: the keys, found or given. The sorted subquery
# is not flattened, so the locks are taken in hash order; keys of equal hash are one
# lock. Keys held already ($2) are left out. Returns the keys locked now.
_LOCK = """
    SELECT k, pg_advisory_xact_lock($1, h)
    FROM (SELECT DISTINCT ON (h) k, h
            FROM (SELECT k, hashtext(k) AS h FROM ({keys}) AS found (k)) AS hashed
           WHERE k IS NOT NULL AND NOT k = ANY($2::text[])
           ORDER BY h) AS sorted"""
_GIVEN = _LOCK.format(keys="SELECT unnest($3::text[])")


def lock_statement(keys: str) -> str:
    """The statement that locks the keys `keys` (a query; its parameters from $3) finds."""
    return _LOCK.format(keys=keys)


class FoldLocks:
    """The advisory locks one transaction holds (it ends with the transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._held: dict[int, set[str]] = {}

    async def take(self, lock_class: int, keys: Collection[str]) -> None:
        held = self._held.setdefault(lock_class, set())
        wanted = [key for key in set(keys) if key not in held]
        if wanted:
            await self.take_found(lock_class, _GIVEN, wanted)

    async def take_found(self, lock_class: int, statement: str, *args: object) -> None:
        """Lock what `statement` (from `lock_statement`) finds, in one round trip."""
        held = self._held.setdefault(lock_class, set())
        rows = await self._conn.fetch(statement, lock_class, list(held), *args)
        held.update(row[0] for row in rows)
