"""Cost budgets: one token bucket per caller, in the units of :mod:`noiselab.api.cost`.

A caller's bucket holds up to ``burst`` units and refills at ``rate`` units a second. A read
takes its cost from it; one the bucket cannot pay is refused (the caller learns when it could
be paid), and takes nothing. A cost above ``burst`` could never be paid and is refused as such.
``rate`` or ``burst`` 0 turns the budget off. Separate from the request count of
:mod:`noiselab.api.ratelimit`: that one limits how often, this one how much.

The buckets (bounded memory, thread safety) are :class:`~noiselab.api.token_buckets.TokenBuckets`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from noiselab.api.token_buckets import MAX_BUCKETS, TokenBuckets

__all__ = ["CostBudget", "Refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a cost was not paid: ``wait_s`` until it could be, or ``None`` when it never can
    (above the burst)."""

    wait_s: float | None


class CostBudget:
    """Buckets by caller; ``clock`` returns seconds (injectable for tests)."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float], max_buckets: int = MAX_BUCKETS
    ) -> None:
        self._buckets = TokenBuckets(rate, burst, clock, max_buckets)

    @property
    def rate(self) -> float:
        """Units a second a bucket refills at."""
        return self._buckets.rate

    @property
    def burst(self) -> int:
        """Units a bucket holds at most: the most one read may cost."""
        return self._buckets.burst

    @property
    def enabled(self) -> bool:
        """Whether costs are limited at all (rate and burst both above 0)."""
        return self._buckets.enabled

    def take(self, caller: str, units: int) -> Refusal | None:
        """Take ``units`` from ``caller``'s bucket: ``None`` when paid, else a refusal."""
        wait_s = self._buckets.take(caller, units)
        if wait_s is None:
            return None
        return Refusal(None if math.isinf(wait_s) else wait_s)
