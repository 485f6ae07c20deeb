"""Daily indicators kept per (sensor, local date), so a long range is not recomputed on every
request: only its dates that are missing or expired are, in one span.

Each date is kept for as long as ``ttl(date)`` says (the indicators route keeps settled dates
longer than recent ones). Computing is single-flight per sensor: concurrent requests for the
same sensor wait for one computation instead of each reading the store. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import date, timedelta

from noiselab.analysis.periods import DayIndicators

__all__ = ["DayCache"]

Compute = Callable[[date, date], list[DayIndicators]]
"""Indicators for every local date in ``[first, last)``, in date order."""


class DayCache:
    """Indicators by (sensor, date), each valid until ``now + ttl(date)`` of ``clock``
    (Unix seconds); at most ``max_days`` kept (expired ones are dropped first). The sensor
    is any hashable key: the indicators route adds the version of its corrections."""

    def __init__(self, clock: Callable[[], float], max_days: int = 100_000) -> None:
        self._clock, self.max_days = clock, max_days
        self._days: dict[tuple[Hashable, date], tuple[DayIndicators, float]] = {}
        self._flights: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(
        self,
        sensor_id: Hashable,
        first: date,
        last: date,
        compute: Compute,
        ttl: Callable[[date], float],
    ) -> list[DayIndicators]:
        """The indicators of ``sensor_id`` for the dates in ``[first, last)``, computing the
        span from the first to the last missing date (one ``compute`` call) if any is
        missing. An exception from ``compute`` reaches the caller and stores nothing."""
        found = self._fresh(sensor_id, first, last)
        if None not in found:
            return [day for day in found if day is not None]
        with self._lock:
            flight = self._flights.setdefault(sensor_id, threading.Lock())
        with flight:
            found = self._fresh(sensor_id, first, last)  # maybe computed meanwhile
            missing = [first + timedelta(days=i) for i, day in enumerate(found) if day is None]
            if missing:
                lo, hi = missing[0], missing[-1] + timedelta(days=1)
                computed = compute(lo, hi)
                if [day.date for day in computed] != [
                    lo + timedelta(days=i) for i in range((hi - lo).days)
                ]:
                    raise ValueError(f"compute({lo}, {hi}) did not give one row per date")
                self._store(sensor_id, computed, ttl)
                offset = (lo - first).days
                found[offset : offset + len(computed)] = computed
        return [day for day in found if day is not None]

    def _fresh(self, sensor_id: Hashable, first: date, last: date) -> list[DayIndicators | None]:
        now = self._clock()
        keys = [(sensor_id, first + timedelta(days=i)) for i in range((last - first).days)]
        with self._lock:
            entries = [self._days.get(key) for key in keys]
        return [None if e is None or e[1] <= now else e[0] for e in entries]

    def _store(
        self, sensor_id: Hashable, days: list[DayIndicators], ttl: Callable[[date], float]
    ) -> None:
        now = self._clock()
        with self._lock:
            if len(self._days) + len(days) > self.max_days:
                for key in [k for k, (_, until) in self._days.items() if until <= now]:
                    del self._days[key]
                while self._days and len(self._days) + len(days) > self.max_days:
                    del self._days[next(iter(self._days))]
            for day in days:
                self._days[(sensor_id, day.date)] = (day, now + ttl(day.date))
