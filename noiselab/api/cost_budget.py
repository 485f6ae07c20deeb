"""Cost budgets: one token bucket per caller, in the units of :mod:`noiselab.api.cost`.

A caller's bucket holds up to ``burst`` units and refills at ``rate`` units a second. A read
takes its cost from it; one the bucket cannot pay is refused (the caller learns when it could
be paid), and takes nothing. A cost above ``burst`` could never be paid and is refused as such.
``rate`` or ``burst`` 0 turns the budget off. Separate from the request count of
:mod:`noiselab.api.ratelimit`: that one limits how often, this one how much.

Memory is bounded like the rate limiter's: buckets idle long enough to be full again are
dropped, and beyond ``max_buckets`` the least recently used go. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CostBudget", "Refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a cost was not paid: ``wait_s`` until it could be, or ``None`` when it never can
    (above the burst)."""

    wait_s: float | None


class CostBudget:
    """Buckets by caller; ``clock`` returns seconds (injectable for tests)."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float], max_buckets: int = 10_000
    ) -> None:
        self.rate, self.burst, self._clock, self.max_buckets = rate, burst, clock, max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # units, when
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether costs are limited at all (rate and burst both above 0)."""
        return self.rate > 0 and self.burst > 0

    def take(self, caller: str, units: int) -> Refusal | None:
        """Take ``units`` from ``caller``'s bucket: ``None`` when paid, else a refusal."""
        if not self.enabled:
            return None
        if units > self.burst:
            return Refusal(None)
        now = self._clock()
        with self._lock:
            held, when = self._buckets.get(caller, (float(self.burst), now))
            held = min(float(self.burst), held + max(0.0, now - when) * self.rate)
            self._buckets[caller] = (held - units if held >= units else held, now)
            self._buckets.move_to_end(caller)
            self._evict(now)
        return None if held >= units else Refusal((units - held) / self.rate)

    def _evict(self, now: float) -> None:
        if len(self._buckets) <= self.max_buckets:
            return
        full_after = self.burst / self.rate
        for caller in [c for c, (_, when) in self._buckets.items() if now - when >= full_after]:
            del self._buckets[caller]
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
