"""Stable MQTT client ids for scaled-out ingest replicas: each replica holds a numbered slot.

The ingest's persistent MQTT session (and the messages Mosquitto queues for it while it is away)
belongs to its client id. A replica that came back under a new id would leave its old session
behind, still taking its share of the shared subscription into a queue nobody reads. Replicas
started by ``docker compose up --scale ingest=3`` have no identity of their own, so each claims
the lowest free slot ``1..max_slots`` and connects as ``noiselab-ingest-<slot>``: a replacement
container takes over the slot, and with it the session, of the one it replaces.

A slot is held for the life of the process, and released by the operating system or the
database when the process dies (no stale leases to expire):

- PostgreSQL metadata (several hosts): a session-level advisory lock on a dedicated connection
  (``pg_try_advisory_lock``). If that connection is lost the lock is gone too, so the lease
  checks it (``alive()``) and the worker stops rather than risk two replicas with one id.
- SQLite metadata (one host): an exclusive ``flock`` on ``ingest-slots/<group>-<slot>.lock``
  beside the database file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from noiselab.errors import ConfigError, StoreError, StoreUnavailable
from noiselab.logs import event

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_SLOTS", "SlotLease", "claim_slot", "slot_client_id", "watch_slot"]

DEFAULT_MAX_SLOTS = 64


class SlotLease(Protocol):
    """A held slot; ``release()`` frees it (also done by process exit)."""

    slot: int

    def alive(self) -> bool:
        """Whether the slot is still held."""
        ...

    def release(self) -> None:
        """Give the slot up."""
        ...


def slot_client_id(group: str, slot: int) -> str:
    """The MQTT client id of ``slot`` in ``group`` (e.g. ``noiselab-ingest-2``)."""
    return f"{group}-{slot}"[:64]


def claim_slot(meta_url: str, group: str, max_slots: int = DEFAULT_MAX_SLOTS) -> SlotLease:
    """Hold the lowest free slot of ``group`` in the metadata database ``meta_url``.

    Raises ``StoreError`` when all ``max_slots`` are taken, ``StoreUnavailable`` when the
    database cannot be reached, ``ConfigError`` for a URL of another kind.
    """
    if max_slots < 1:
        raise ValueError("max_slots must be at least 1")
    url = make_url(meta_url)
    if url.get_backend_name() == "postgresql":
        return _PostgresLease.claim(meta_url, group, max_slots)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return _FileLease.claim(Path(url.database).parent / "ingest-slots", group, max_slots)
    raise ConfigError(f"metadata URL {meta_url!r}: slots need a SQLite file or PostgreSQL")


def watch_slot(
    lease: SlotLease, on_lost: Callable[[], None], interval_s: float = 10.0
) -> threading.Event:
    """Check ``lease`` every ``interval_s`` from a daemon thread and call ``on_lost()`` once when
    it is gone (the worker then stops: a restart claims a slot afresh). Set the returned event
    to stop watching."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(interval_s):
            if not lease.alive():
                event(log, "ingest slot lost", level=logging.ERROR, slot=lease.slot)
                on_lost()
                return

    threading.Thread(target=watch, name="ingest-slot-watch", daemon=True).start()
    return stop


class _FileLease:
    def __init__(self, slot: int, fd: int) -> None:
        self.slot = slot
        self._fd: int | None = fd

    @classmethod
    def claim(cls, directory: Path, group: str, max_slots: int) -> _FileLease:
        directory.mkdir(parents=True, exist_ok=True)
        for slot in range(1, max_slots + 1):
            fd = os.open(directory / f"{group}-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(slot, fd)
        raise StoreError(f"all {max_slots} ingest slots of {group!r} are taken")

    def alive(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class _PostgresLease:
    def __init__(self, slot: int, engine: sa.Engine, connection: sa.Connection) -> None:
        self.slot = slot
        self._engine = engine
        self._connection: sa.Connection | None = connection

    @classmethod
    def claim(cls, url: str, group: str, max_slots: int) -> _PostgresLease:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            raise StoreUnavailable(f"ingest slots: cannot connect: {exc.orig}") from exc
        base = _lock_base(group)
        for slot in range(1, max_slots + 1):
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": base + slot}
            ).scalar_one()
            if taken:
                return cls(slot, engine, connection)
        connection.close()
        engine.dispose()
        raise StoreError(f"all {max_slots} ingest slots of {group!r} are taken")

    def alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ends the session, which releases its advisory locks
            self._connection = None
            self._engine.dispose()


def _lock_base(group: str) -> int:
    """A 64-bit advisory-lock key space for ``group``: its hash with the low 16 bits free."""
    digest = hashlib.sha256(f"noiselab-ingest-slot:{group}".encode()).digest()
    return (int.from_bytes(digest[:8], "big", signed=True) >> 16) << 16
