"""Weather observations in the SQLite store: table ``weather`` (schema version 4).

One row per ``(station_id, ts_ms)`` (``ts_ms`` = ``noiselab.model.ts_key(ts)``), with
``duration_ms`` and the measured values as sent (NULL when not observed) and ``received_at``
(Unix s) of the write that stored it. A write is one ``BEGIN IMMEDIATE`` transaction: it reads
the stored rows at the batch's keys, inserts the new observations and returns re-deliveries
(``unchanged``) and conflicts (not written), as for readings
(:mod:`noiselab.store.weather_base`). :class:`SqliteWeather` is mixed into
:class:`~noiselab.store.sqlite.SqliteStore`, whose connection and lock it shares.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime

from noiselab.errors import QueryError
from noiselab.model import WeatherObservation, ts_key
from noiselab.store.sqlite_connection import translated
from noiselab.store.weather_base import (
    MAX_WEATHER_ROWS,
    WeatherWriteResult,
    classify_weather,
)

__all__ = ["WEATHER_TABLE", "SqliteWeather"]

WEATHER_TABLE = """CREATE TABLE weather (
    station_id     TEXT    NOT NULL,
    ts_ms          INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    wind_speed     REAL,
    wind_gust      REAL,
    wind_direction REAL,
    precipitation  REAL,
    temperature    REAL,
    received_at    REAL    NOT NULL,
    PRIMARY KEY (station_id, ts_ms)
) WITHOUT ROWID"""
"""Schema step 4 of :mod:`noiselab.store.sqlite_schema`."""

_RANGE = (
    "SELECT ts_ms, duration_ms, wind_speed, wind_gust, wind_direction, precipitation,"
    " temperature FROM weather WHERE station_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms"
)
_INSERT = "INSERT INTO weather VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _observation(station_id: str, row: tuple[float | int | None, ...]) -> WeatherObservation:
    ts_ms, duration_ms, speed, gust, direction, rain, temperature = row
    return WeatherObservation(
        station_id,
        int(ts_ms or 0) / 1000.0,
        int(duration_ms or 0) / 1000.0,
        *(None if v is None else float(v) for v in (speed, gust, direction, rain, temperature)),
    )


class SqliteWeather:
    """The weather part of the SQLite store (uses its ``_conn`` and ``_lock``)."""

    _conn: sqlite3.Connection
    _lock: threading.RLock

    def write_weather(
        self, observations: Sequence[WeatherObservation], received_at: float
    ) -> WeatherWriteResult:
        """Store the new ``observations`` in one durable transaction; re-deliveries change
        nothing and conflicting observations are returned, not written."""
        if not observations:
            return WeatherWriteResult(0, 0)
        with self._lock, translated("write weather"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                stored = self._stored_at(observations)
                new, unchanged, conflicts = classify_weather(observations, stored)
                self._conn.executemany(_INSERT, [_row(o, received_at) for o in new])
                self._conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
        return WeatherWriteResult(len(new), unchanged, tuple(conflicts))

    def _stored_at(
        self, observations: Sequence[WeatherObservation]
    ) -> dict[tuple[str, int], WeatherObservation]:
        keys: dict[str, list[int]] = {}
        for o in observations:
            keys.setdefault(o.station_id, []).append(ts_key(o.ts))
        found: dict[tuple[str, int], WeatherObservation] = {}
        for station_id, wanted in keys.items():
            rows = self._conn.execute(_RANGE, (station_id, min(wanted), max(wanted) + 1))
            lookup = set(wanted)
            for row in rows:
                if row[0] in lookup:
                    found[(station_id, int(row[0]))] = _observation(station_id, row)
        return found

    def weather(self, station_id: str, start: datetime, end: datetime) -> list[WeatherObservation]:
        """The observations of ``station_id`` with ``start <= ts < end``, ordered by ``ts``;
        ``QueryError`` beyond ``MAX_WEATHER_ROWS``."""
        bounds = (station_id, ts_key(start.timestamp()), ts_key(end.timestamp()))
        with self._lock, translated("read weather"):
            rows = self._conn.execute(_RANGE + f" LIMIT {MAX_WEATHER_ROWS + 1}", bounds).fetchall()
        if len(rows) > MAX_WEATHER_ROWS:
            raise QueryError(
                f"more than {MAX_WEATHER_ROWS:,} weather observations in the range; ask for less"
            )
        return [_observation(station_id, row) for row in rows]


def _row(o: WeatherObservation, received_at: float) -> tuple[object, ...]:
    return (
        o.station_id,
        ts_key(o.ts),
        max(1, round(o.duration * 1000.0)),
        o.wind_speed,
        o.wind_gust,
        o.wind_direction,
        o.precipitation,
        o.temperature,
        received_at,
    )
