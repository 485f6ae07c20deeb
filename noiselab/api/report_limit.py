"""The per-address limit of citizens' reports (``POST /api/v1/citizen-reports``).

At most ``burst`` reports from one client address per ``window_s`` seconds (5 per 10 minutes
by default): token buckets (:class:`~noiselab.api.token_buckets.TokenBuckets`) of ``burst``
tokens refilling at ``burst / window_s`` a second. The address is the one the public rate
limit uses (:func:`noiselab.api.ratelimit.client_address`: the peer, or behind a trusted
proxy the right-most untrusted ``X-Forwarded-For`` hop).

The address itself is never kept: a bucket is keyed by a keyed BLAKE2b hash of it, with a key
drawn at random when the process starts and held only in memory, so the buckets cannot be
turned back into addresses, not even by whoever reads them. Nothing is written to disk (so,
unlike the public rate limit, several API processes each allow the burst; put the reverse
proxy's limit in front of them for a hard figure). A refused report answers 429 with
``Retry-After``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable

from fastapi import HTTPException

from noiselab.api.token_buckets import TokenBuckets

__all__ = ["ReportLimiter", "too_many_reports"]


class ReportLimiter:
    """Reports by address (module docstring); ``burst`` 0 turns the limit off."""

    def __init__(self, burst: int, window_s: float, clock: Callable[[], float]) -> None:
        rate = burst / window_s if burst > 0 else 0.0
        self._buckets = TokenBuckets(rate, burst, clock)
        self._key = secrets.token_bytes(32)

    def __len__(self) -> int:
        return len(self._buckets)

    def hashed(self, address: str) -> str:
        """The bucket key of ``address``: its keyed hash (hex)."""
        digest = hashlib.blake2b(address.encode(), key=self._key, digest_size=16)
        return digest.hexdigest()

    def take(self, address: str) -> float | None:
        """Count one report from ``address``: ``None`` when allowed, else the seconds until
        the next one will be."""
        return self._buckets.take(self.hashed(address))


def too_many_reports(wait_s: float) -> HTTPException:
    """The 429 answer with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(1, math.ceil(wait_s))
    return HTTPException(
        429,
        f"too many reports from this address; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )
