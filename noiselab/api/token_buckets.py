"""Token buckets by key, the arithmetic under the request-count limit
(:mod:`noiselab.api.ratelimit`) and the read-cost budgets (:mod:`noiselab.api.cost_budget`).

A key's bucket starts full with ``burst`` units and refills at ``rate`` units a second up to
``burst``. Taking ``units`` from a bucket that holds them succeeds; otherwise nothing is taken
and the caller learns how long until the bucket would hold them. ``rate`` or ``burst`` 0 turns
the buckets off (every take succeeds).

Memory is bounded: a bucket idle long enough to be full again is the same as no bucket, so such
buckets are dropped, and beyond ``max_buckets`` the least recently used ones go too.
Thread-safe (one lock; each take is a few dictionary operations).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MAX_BUCKETS", "TokenBuckets", "spend"]

MAX_BUCKETS = 10_000


def spend(
    held: float, when: float, now: float, units: float, *, rate: float, burst: int
) -> tuple[float, float | None]:
    """One take from a bucket that held ``held`` units at ``when``: the units it holds after
    refilling until ``now`` (and paying, when it could) and the seconds until it could pay
    (``None`` when it paid)."""
    held = min(float(burst), held + max(0.0, now - when) * rate)
    if held >= units:
        return held - units, None
    return held, (units - held) / rate


class TokenBuckets:
    """Token buckets by key; ``clock`` returns seconds (injectable for tests)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # units, when
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether anything is limited at all (rate and burst both above 0)."""
        return self.rate > 0 and self.burst > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, units: float = 1.0) -> float | None:
        """Take ``units`` from ``key``'s bucket: ``None`` when it held them, else the seconds
        until it will (``math.inf`` when ``units`` exceeds ``burst``: never)."""
        if not self.enabled:
            return None
        if units > self.burst:
            return math.inf
        now = self._clock()
        with self._lock:
            held, when = self._buckets.get(key, (float(self.burst), now))
            held, wait_s = spend(held, when, now, units, rate=self.rate, burst=self.burst)
            self._buckets[key] = (held, now)
            self._buckets.move_to_end(key)
            self._evict(now)
        return wait_s

    def _evict(self, now: float) -> None:
        if len(self._buckets) <= self.max_buckets:
            return
        full_after = self.burst / self.rate
        for key in [k for k, (_, when) in self._buckets.items() if now - when >= full_after]:
            del self._buckets[key]
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
