"""API keys in the metadata database, stored as salt and hash only (hashing lives in
:mod:`noiselab.api.auth`). Times are aware UTC ``datetime`` objects.

Usage::

    meta.keys.add(key, salt=salt, digest=hash_secret(secret, salt))
    meta.keys.secret(key.id)  # the key with its salt and hash, to check a presented secret
"""

from __future__ import annotations

import json
from datetime import datetime

import msgspec
import sqlalchemy as sa

from noiselab.model import ApiKey, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import api_keys_table

__all__ = ["KeyRepository"]


class KeyRepository:
    """The API keys of a metadata database. Each method is one transaction, durable when it
    returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def add(self, key: ApiKey, *, salt: bytes, digest: bytes) -> None:
        """Store ``key`` with the salt and hash of its secret (never the secret itself). An id
        that exists raises ``StoreError``."""
        row = msgspec.structs.asdict(key) | {
            "sensors": json.dumps(list(key.sensors)),
            "salt": salt,
            "hash": digest,
        }
        with translated("add an API key"), self._engine.begin() as connection:
            connection.execute(sa.insert(api_keys_table), [row])

    def secret(self, key_id: str) -> tuple[ApiKey, bytes, bytes] | None:
        """The key ``key_id`` with its salt and hash, or ``None`` when there is none."""
        query = sa.select(api_keys_table).where(api_keys_table.c.id == key_id)
        with translated("read an API key"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return _key_from_row(row), bytes(row["salt"]), bytes(row["hash"])

    def all(self) -> list[ApiKey]:
        """All API keys (revoked ones included), oldest first."""
        table = api_keys_table
        query = sa.select(table).order_by(table.c.created, table.c.id)
        with translated("list API keys"), self._engine.connect() as connection:
            return [_key_from_row(row) for row in connection.execute(query).mappings()]

    def revoke(self, key_id: str, when: datetime | None = None) -> bool:
        """Mark ``key_id`` revoked at ``when`` (default now); return whether it existed. The
        first revocation time is kept when it is revoked again."""
        table = api_keys_table
        with translated("revoke an API key"), self._engine.begin() as connection:
            exists = connection.execute(sa.select(table.c.id).where(table.c.id == key_id)).first()
            connection.execute(
                sa.update(table)
                .where(table.c.id == key_id, table.c.revoked_at.is_(None))
                .values(revoked_at=when or utcnow())
            )
        return exists is not None

    def touch(self, key_id: str, when: datetime) -> None:
        """Record that ``key_id`` was used at ``when``."""
        statement = (
            sa.update(api_keys_table).where(api_keys_table.c.id == key_id).values(last_used=when)
        )
        with translated("record API key use"), self._engine.begin() as connection:
            connection.execute(statement)


def _key_from_row(row: sa.RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        sensors=tuple(json.loads(row["sensors"])),
        created=row["created"],
        revoked_at=row["revoked_at"],
        last_used=row["last_used"],
    )
