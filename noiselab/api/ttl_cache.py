"""A small time-to-live cache with single-flight computation (the map, daily indicators).

``TtlCache.get(key, compute)`` returns the value cached for ``key`` while it is younger than
``ttl_s`` seconds of ``clock``; otherwise one caller computes it (single flight). While it does,
concurrent callers of the same key get the previous value at once if there is one (stale while
refreshing, so an expiry stalls one request, not every request in flight), else wait for the
result instead of computing it again. Callers of other keys are not held up. ``ttl_s`` 0
computes on every call. Thread-safe.

``peek(key)`` is the lock-free-ish fast path for an event loop: the fresh value or ``None``,
never computing, so an ``async`` route answers cache hits without a thread hop and sends only
misses to a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values by key, each fresh for ``ttl_s`` seconds of ``clock`` (Unix seconds)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float], max_keys: int = 1000) -> None:
        self.ttl_s, self._clock, self.max_keys = ttl_s, clock, max_keys
        self._entries: dict[Hashable, tuple[V, float]] = {}  # value, expiry
        self._flights: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> V | None:
        """The fresh value of ``key``, or ``None`` when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        return None

    def get(
        self,
        key: Hashable,
        compute: Callable[[], V],
        ttl_of: Callable[[V], float] | None = None,
    ) -> V:
        """The fresh value of ``key``, computing it (once, whoever else is waiting) if needed.

        An exception from ``compute`` reaches the caller and caches nothing. ``ttl_of`` may
        keep a computed value shorter than ``ttl_s`` (s; never longer).
        """
        cached = self.peek(key)
        if cached is not None:
            return cached
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
            stale = self._entries.get(key)
        if stale is not None and not flight.acquire(blocking=False):
            return stale[0]  # another caller is refreshing it
        if stale is None:
            flight.acquire()
        try:
            cached = self.peek(key)  # computed by the caller this one waited for
            if cached is not None:
                return cached
            value = compute()
            ttl = self.ttl_s if ttl_of is None else min(self.ttl_s, ttl_of(value))
            if ttl > 0:
                self._store(key, value, ttl)
        finally:
            flight.release()
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()

    def _store(self, key: Hashable, value: V, ttl_s: float) -> None:
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self.max_keys:
                for old in [k for k, (_, until) in self._entries.items() if until <= now]:
                    del self._entries[old]
                while len(self._entries) >= self.max_keys:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (value, now + ttl_s)
