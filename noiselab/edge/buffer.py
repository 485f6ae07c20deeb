"""The sensor's durable outbox: every reading is written here before it is published.

One SQLite file (stdlib ``sqlite3``, WAL, ``synchronous=FULL``: durable when ``append``
returns). A row holds one reading's JSON exactly as it will be sent; it is deleted only when
the broker has acknowledged the QoS 1 message that carried it. Rows keep their insertion order
(``id``), so the oldest readings go first, also after a restart.

The file also keeps the sensor id it belongs to and the next ``seq``, so the message counter
carries on across restarts and a buffer is never uploaded under another sensor's id.

Size: a reading is about 85 bytes of JSON without a spectrum and 445 bytes with 27 bands;
a day of readings (86,400) takes about 8.5 MB of SQLite file, 45 MB with spectra (measured;
``tests/edge/test_buffer.py`` keeps the first figure honest). Deleted rows' pages are
reused, so the file stays at the size of the largest backlog it has held.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from noiselab.errors import NoiselabError

__all__ = ["OutboxError", "Pending", "ReadingBuffer"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class OutboxError(NoiselabError):
    """The buffer file cannot be opened or belongs to another sensor."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Consecutive buffered readings ready to go in one message: rows ``first..last``."""

    first: int
    last: int
    bodies: tuple[bytes, ...]

    def payload(self) -> bytes:
        """One reading as an object, several as a JSON array (oldest first)."""
        if len(self.bodies) == 1:
            return self.bodies[0]
        return b"[" + b",".join(self.bodies) + b"]"


class ReadingBuffer:
    """The outbox of sensor ``sensor_id`` in the SQLite file ``path`` (created if missing)."""

    def __init__(self, path: Path, sensor_id: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                os.fspath(path), isolation_level=None, check_same_thread=False, timeout=30
            )
        except sqlite3.Error as exc:
            raise OutboxError(f"buffer {path}: cannot open ({exc})") from exc
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)
            self._claim(sensor_id)
        except sqlite3.Error as exc:
            self._conn.close()
            raise OutboxError(f"buffer {path}: not a usable SQLite file ({exc})") from exc
        except OutboxError:
            self._conn.close()
            raise

    def _claim(self, sensor_id: str) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'sensor_id'").fetchone()
        if row is None:
            self._conn.execute("INSERT INTO meta VALUES ('sensor_id', ?)", (sensor_id,))
        elif row[0] != sensor_id:
            raise OutboxError(
                f"buffer {self.path} holds readings of sensor {row[0]!r}, not {sensor_id!r}; "
                "give each sensor its own --buffer"
            )

    def append(self, readings: Sequence[dict[str, Any]]) -> None:
        """Store ``readings`` (contract fields without ``seq``), numbering them with the next
        ``seq`` values, in one durable transaction."""
        if not readings:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                seq = self._next_seq()
                rows = []
                for offset, reading in enumerate(readings):
                    rows.append((msgspec.json.encode({**reading, "seq": seq + offset}),))
                self._conn.executemany("INSERT INTO outbox (body) VALUES (?)", rows)
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", (str(seq + len(rows)),)
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _next_seq(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        return 0 if row is None else int(row[0])

    def pending(self, after: int, *, max_readings: int, max_bytes: int) -> Pending | None:
        """The oldest rows with ``id > after``: at most ``max_readings`` whose JSON array
        stays within ``max_bytes`` (a single larger reading still goes alone)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, body FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                (after, max_readings),
            ).fetchall()
        if not rows:
            return None
        bodies: list[bytes] = []
        size = 1  # the closing bracket; each body adds itself and "[" or ","
        last = rows[0][0]
        for row_id, body in rows:
            if bodies and size + len(body) + 1 > max_bytes:
                break
            bodies.append(bytes(body))
            size += len(body) + 1
            last = row_id
        return Pending(rows[0][0], last, tuple(bodies))

    def delete(self, first: int, last: int) -> None:
        """Forget rows ``first..last`` (the broker acknowledged them)."""
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE id BETWEEN ? AND ?", (first, last))

    def count(self) -> int:
        """Readings waiting for an acknowledgement."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
