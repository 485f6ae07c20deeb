"""The caller of the public map's data routes, resolved at the least cost, and their answers
with ETag and cache headers.

:func:`map_principal` is called in a route rather than declared with ``Depends``: FastAPI's
dependency solving costs about half of a cached answer's time. Without an ``Authorization``
header it takes a rate-limit token (429 when none is left); with one it verifies the key with
``optional_principal`` (a recently verified key on the event loop, any other in a worker
thread). Routes using it declare the bearer scheme in OpenAPI themselves.
"""

from __future__ import annotations

from fastapi import Request, Response

from noiselab.api.access import cache_headers
from noiselab.api.auth import Principal, bearer_scheme, optional_principal
from noiselab.api.ratelimit import client_address, too_many_requests
from noiselab.api.settings import ApiSettings

__all__ = ["answer_bytes", "map_principal"]


async def map_principal(request: Request) -> Principal | None:
    """The caller (``None``: the public, after taking a rate-limit token)."""
    if "authorization" in request.headers:
        credentials = await bearer_scheme(request)
        return await optional_principal(request, credentials)
    settings: ApiSettings = request.app.state.settings
    wait = request.app.state.limiter.take(client_address(request, settings.trusted_proxies))
    if wait is not None:
        raise too_many_requests(wait)
    return None


def answer_bytes(
    request: Request,
    principal: Principal | None,
    body: bytes,
    etag: str,
    media_type: str,
    *,
    public_max_age_s: int | None = None,
) -> Response:
    """``body`` with ``etag`` and cache headers (:func:`cache_headers`; ``public_max_age_s``
    overrides a public answer's ``max-age``); 304 when ``If-None-Match`` has the ETag."""
    if etag in request.headers.get("if-none-match", ""):
        response = Response(status_code=304)
    else:
        response = Response(body, media_type=media_type)
    response.headers["ETag"] = etag
    cache_headers(response, principal, settled=False)
    if principal is None and public_max_age_s is not None:
        response.headers["Cache-Control"] = f"public, max-age={public_max_age_s}"
    return response
