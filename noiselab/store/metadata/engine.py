"""The metadata database's engine: URL checks, SQLite settings, migration, error translation.

SQLite files run in WAL mode with a busy timeout and durable commits; PostgreSQL connections
are checked before use. Alembic owns the schema: :func:`migrate` upgrades to the newest
revision, serialised so several processes may start at once. Driver errors become
:class:`~noiselab.errors.StoreError` (:class:`~noiselab.errors.StoreUnavailable` when retrying
may help) through :func:`translated`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry

from noiselab.errors import ConfigError, StoreError, StoreUnavailable

__all__ = [
    "MIGRATIONS",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "insert_new",
    "migrate",
    "open_engine",
    "parse_url",
    "translated",
]

SQLITE_BUSY_TIMEOUT_MS = 5000
_SQLITE_RETRYABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL})
MIGRATIONS = Path(__file__).parents[1] / "migrations"
"""The Alembic script directory of the metadata database."""
_PG_MIGRATION_LOCK = 0x6E6F6973  # pg_advisory_xact_lock key that serialises migrations


class Database(Protocol):
    """What a repository uses of the open database (a ``MetadataStore``)."""

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; it pools connections."""
        ...

    def dialect_insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
        """An ``INSERT`` for ``table`` in this database's dialect (with ``on_conflict_*``)."""
        ...


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn SQLAlchemy errors into ``StoreError`` / ``StoreUnavailable`` naming ``action``."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        error = StoreUnavailable if _retryable(exc) else StoreError
        raise error(f"metadata database: cannot {action}: {exc.orig}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(f"metadata database: cannot {action}: {exc}") from exc


def _retryable(exc: sa_exc.DBAPIError) -> bool:
    """Busy, locked or full SQLite; a lost connection or an operational error elsewhere."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_RETRYABLE
    return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL (readers never block the writer), a busy timeout, durable commits."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    """Switch to WAL, waiting up to the busy timeout for another connection's transaction.

    A new file records WAL only when its first transaction commits, and changing the journal
    mode does not wait on the busy handler: a process opening the file while another one
    migrates it would fail at once with "database is locked" without this retry.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def parse_url(url: str) -> sa.URL:
    """``url`` parsed: a SQLite or PostgreSQL SQLAlchemy URL, else ``ConfigError``."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise ConfigError(f"metadata URL {url!r}: not an SQLAlchemy URL") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"metadata URL {url!r}: expected sqlite:/// or postgresql://")
    return parsed


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///PATH``, creating the file's directory, or
    ``postgresql+psycopg://...``); a bad or unsupported URL raises ``ConfigError``."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    database = parsed.database or ""
    if backend == "sqlite" and database not in ("", ":memory:") and ":" not in database[:5]:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"pool_pre_ping": backend != "sqlite"}
    if backend == "sqlite" and database in ("", ":memory:"):  # one shared connection
        options = {"poolclass": sa.pool.StaticPool}
    try:
        engine = sa.create_engine(parsed, **options)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise ConfigError(f"metadata URL {url!r}: {exc}") from exc
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def migrate(connection: Connection) -> None:
    """Upgrade to the newest revision inside ``connection``'s transaction, holding a lock
    (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock) so concurrent starts serialise."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    command.upgrade(config, "head")


def insert_new(
    engine: Engine,
    statement: sqlite.Insert | postgresql.Insert,
    key: sa.Column[Any],
    rows: list[dict[str, Any]],
    action: str,
) -> int:
    """Run an on-conflict-do-nothing insert of ``rows`` in one transaction; count the rows it
    inserted (``key`` is the column it returns for each)."""
    if not rows:
        return 0
    with translated(action), engine.begin() as connection:
        return len(connection.execute(statement.returning(key), rows).all())
