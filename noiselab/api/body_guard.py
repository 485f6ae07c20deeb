"""Request bodies cost no more than their limits: the key is checked before a body is read,
and a body is read only up to its route's size limit.

FastAPI reads and parses a route's JSON body before it runs the route's dependencies, the key
check among them, so without this middleware anybody could make the API hold and parse any
amount of data. :class:`BodyGuard`, a pure ASGI middleware in front of the routes, does for a
request that carries a body (a ``Content-Length`` above 0 or a ``Transfer-Encoding``):

1. a write (any method but GET, HEAD, OPTIONS) without a valid key answers 401 before a byte
   of the body is read; the failure is charged to the client address's public rate limit
   like any failed key check (429 once it is empty). Every write route needs a key but the
   ``public_writes`` given to the guard (method and exact path: a citizen's report), whose
   bodies are small and limited like any other, and whose routes check a presented key
   themselves;
2. a declared ``Content-Length`` over the route's limit answers 413 at once;
3. the body is then read as it streams in, and 413 answers as soon as more than the limit has
   arrived: a chunked body or one longer than it claimed is never held whole;
4. a JSON body nested deeper than the limit answers 422 before it is parsed: the nesting is
   measured by one linear pass over the bytes, so a malformed body costs time in proportion
   to its (bounded) size.

The body read is handed on to the app unchanged. Limits: :class:`~noiselab.api.limits.Limits`.
The key check here only tells valid keys from the rest; the routes still check roles (a
verified key is cached, so they do not hash it again).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Mapping

import numpy as np
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from noiselab.api.auth import KeyVerifier
from noiselab.api.limits import Limits
from noiselab.api.ratelimit import RateLimiter, client_address, too_many_requests

__all__ = ["BodyGuard", "json_depth"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of the JSON text ``body`` nest (0 for a scalar).

    Strings are removed first (they may hold brackets); in malformed text the count is of the
    brackets left, so it may exceed the true nesting of the valid prefix, never fall below it.
    Linear in ``len(body)``.
    """
    brackets = np.frombuffer(_STRING.sub(b"", body).translate(None, _NOT_BRACKETS), np.uint8)
    if brackets.size == 0:
        return 0
    opening = (brackets == ord("[")) | (brackets == ord("{"))
    return int(np.cumsum(np.where(opening, 1, -1)).max(initial=0))


class BodyGuard:
    """The middleware (see the module docstring). ``route_limits`` maps path prefixes to their
    own byte limits (the longest matching prefix wins); other paths get ``limits.max_body_bytes``.
    ``public_writes`` are the ``(method, path)`` pairs written to without a key.
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: Limits,
        route_limits: Mapping[str, int],
        public_writes: Collection[tuple[str, str]] = (),
    ) -> None:
        self.app, self.limits = app, limits
        self.route_limits = sorted(route_limits.items(), key=lambda item: -len(item[0]))
        self.public_writes = frozenset(public_writes)

    def limit(self, path: str) -> int:
        """The byte limit of a body sent to ``path``."""
        for prefix, limit in self.route_limits:
            if path.startswith(prefix):
                return limit
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if (
            scope["method"] not in SAFE_METHODS
            and (scope["method"], scope["path"]) not in self.public_writes
        ):
            refusal = await _key_refusal(request)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        limit = self.limit(scope["path"])
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        body, disconnected = await _read(receive, limit)
        if body is None:
            await _too_large(limit)(scope, receive, send)
            return
        if disconnected:
            return
        if _is_json(request) and json_depth(body) > self.limits.max_json_depth:
            detail = f"body: JSON nested deeper than {self.limits.max_json_depth} levels"
            await JSONResponse({"detail": detail}, 422)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return not kind or "json" in kind.split(";", 1)[0].lower()


async def _read(receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """The body (``None`` once more than ``limit`` bytes arrived) and whether the client went
    away before sending it all."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` in one message, then what ``receive`` gives (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _key_refusal(request: Request) -> JSONResponse | None:
    """``None`` when the request presents a valid key, else the 401 (or 429) to answer."""
    presented = _presented_key(request.headers.get("authorization", ""))
    if presented:
        verifier: KeyVerifier = request.app.state.keys
        if verifier.cached(presented) is not None:
            return None
        if await run_in_threadpool(verifier.verify, presented) is not None:
            return None
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(client_address(request, request.app.state.settings.trusted_proxies))
    if wait is not None:
        refused = too_many_requests(wait)
        headers = {**(refused.headers or {}), "Connection": "close"}
        return JSONResponse({"detail": refused.detail}, 429, headers=headers)
    detail = "invalid or revoked API key" if presented else "a request with a body needs an API key"
    headers = {"WWW-Authenticate": "Bearer", "Connection": "close"}  # the body is not read
    return JSONResponse({"detail": detail}, 401, headers=headers)


def _presented_key(header: str) -> str:
    """The key of an ``Authorization`` header: a bearer token or a Basic password ("" if none)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2].strip()
    return ""


def _too_large(limit: int) -> JSONResponse:
    detail = f"the body may be at most {limit} bytes"
    return JSONResponse({"detail": detail}, 413, headers={"Connection": "close"})
