"""Per-address rate limiting of public requests: one token bucket per client address.

Each address starts with ``burst`` tokens; a public request (no ``Authorization`` header) and a
failed key check each take one, and tokens come back at ``rate`` per second up to ``burst``. An
address without a token is answered 429 with ``Retry-After`` (whole seconds until the next
token). A valid key never takes from the bucket. ``rate`` or ``burst`` 0 disables the limit.

The client address is the peer of the connection (``request.client.host``). ``X-Forwarded-For``
is believed only when the peer is one of ``trusted_proxies`` (exact addresses, e.g. the reverse
proxy's); then the right-most address in that header that is not itself a trusted proxy is the
client. Otherwise anyone could claim any address and dodge the limit.

Memory is bounded: a bucket idle long enough to be full again is the same as no bucket, so such
buckets are dropped, and beyond ``max_buckets`` the least recently used ones go too.
Thread-safe (one lock; each check is a few dictionary operations).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection

from fastapi import HTTPException, Request

__all__ = ["MAX_BUCKETS", "RateLimiter", "client_address", "too_many_requests"]

MAX_BUCKETS = 10_000


class RateLimiter:
    """Token buckets by address; ``clock`` returns seconds (injectable for tests)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all (rate and burst both above 0)."""
        return self.rate > 0 and self.burst > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, address: str, now: float) -> float:
        tokens, when = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - when) * self.rate)

    def take(self, address: str) -> float | None:
        """Take a token for ``address``: ``None`` when it had one, else the seconds until it
        will have one."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            tokens = self._tokens(address, now)
            if tokens >= 1.0:
                self._buckets[address] = (tokens - 1.0, now)
                self._buckets.move_to_end(address)
                self._evict(now)
                return None
            self._buckets[address] = (tokens, now)
            self._buckets.move_to_end(address)
            return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        if len(self._buckets) <= self.max_buckets:
            return
        full_after = self.burst / self.rate
        for address in [a for a, (_, when) in self._buckets.items() if now - when >= full_after]:
            del self._buckets[address]
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)


def client_address(request: Request, trusted_proxies: Collection[str]) -> str:
    """The caller's address: the peer, or (behind a trusted proxy) the right-most untrusted
    address of ``X-Forwarded-For``."""
    peer = request.client.host if request.client is not None else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return hops[0] if hops else peer


def too_many_requests(wait_s: float) -> HTTPException:
    """The 429 answer with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(1, math.ceil(wait_s))
    return HTTPException(
        429,
        f"too many requests from this address without an API key; retry in {seconds} s "
        "or use an API key",
        headers={"Retry-After": str(seconds)},
    )
