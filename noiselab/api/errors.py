"""Exception handlers: every error answers a JSON body ``{"detail": "..."}`` a person can read.

- request validation (bad query or path values) -> 422, ``detail`` like
  ``"every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"``, FastAPI's list kept under ``errors``;
- ``QueryError`` (a well-formed query the store will not answer) -> 400;
- ``StoreError`` -> 503 (with ``Retry-After`` when retrying may help);
- anything else -> 500, logged with its traceback: a last resort, never the caller's mistake.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from noiselab.errors import QueryError, StoreError

__all__ = ["CatchAllMiddleware", "install_error_handlers", "validation_detail"]

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers and the catch-all (add it before any middleware that should see
    the 500 it produces)."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_middleware(CatchAllMiddleware)


def validation_detail(errors: Sequence[Mapping[str, Any]]) -> str:
    """One readable line from pydantic's errors: ``"where: what"`` joined by ``"; "``."""
    return "; ".join(_one_error(error) for error in errors)


def _one_error(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    where = ".".join(loc[1:] if len(loc) > 1 else loc) or "request"
    if error.get("type") == "enum":
        allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        return f"{where}: must be one of {', '.join(allowed)}"
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message[:1].lower()}{message[1:]}"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = {"detail": validation_detail(errors), "errors": jsonable_encoder(errors)}
    return JSONResponse(body, status_code=422)


async def _query_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    retryable = getattr(exc, "retryable", False)
    log.warning(
        "store error",
        extra={"fields": {"path": request.url.path, "error": exc, "retryable": retryable}},
    )
    headers = {"Retry-After": str(RETRY_AFTER_S)} if retryable else None
    body = {"detail": "a database behind the service is unavailable; try again later"}
    return JSONResponse(body, status_code=503, headers=headers)


class CatchAllMiddleware:
    """Turns an unhandled exception into a logged 500 ``{"detail": "internal error"}``, so the
    response is JSON like every other (the traceback goes to the log, not to the caller)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_start)
        except Exception:
            log.exception(
                "unhandled error",
                extra={"fields": {"method": scope.get("method"), "path": scope.get("path")}},
            )
            if started:
                raise
            response = JSONResponse({"detail": "internal error"}, status_code=500)
            await response(scope, receive, send)
