"""Per-address rate limiting of public requests: one token bucket per client address.

Each address starts with ``burst`` tokens; a public request (no ``Authorization`` header) and a
failed key check each take one, and tokens come back at ``rate`` per second up to ``burst``. An
address without a token is answered 429 with ``Retry-After`` (whole seconds until the next
token). A valid key never takes from the bucket. ``rate`` or ``burst`` 0 disables the limit.

The client address is the peer of the connection (``request.client.host``). ``X-Forwarded-For``
is believed only when the peer is one of ``trusted_proxies`` (exact addresses, e.g. the reverse
proxy's); then the right-most address in that header that is not itself a trusted proxy is the
client. Otherwise anyone could claim any address and dodge the limit.

The buckets themselves (bounded memory, thread safety) are
:class:`~noiselab.api.token_buckets.TokenBuckets`.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from fastapi import HTTPException, Request

from noiselab.api.token_buckets import MAX_BUCKETS, TokenBuckets

__all__ = ["MAX_BUCKETS", "RateLimiter", "client_address", "too_many_requests"]


class RateLimiter(TokenBuckets):
    """Token buckets by address, one token a request: ``take(address)`` answers ``None`` when
    the address had a token, else the seconds until it will have one."""


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
