"""Exception handlers: every error answers a JSON body ``{"detail": "..."}`` a person can read.

- request validation (bad query or path values) -> 422, ``detail`` like
  ``"every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"``, FastAPI's list kept under ``errors``;
- ``QueryError`` (a well-formed query the store will not answer) -> 400;
- ``StoreError`` -> 503 (with ``Retry-After`` when retrying may help);
- anything else -> 500, logged with its traceback: a last resort, never the caller's mistake.

The OpenAPI document is made to say so: FastAPI describes the 422 it adds by itself with its
own ``HTTPValidationError`` (``detail`` a list); :func:`install_error_handlers` rewrites those to
``ErrorOut``, the body the handler really sends. FastAPI also answers a request body that is not
JSON with 400 (``"There was an error parsing the body"``) before any route runs; operations
taking a body declare that 400 unless they declare their own. Two answers come from in front of
the routes, so the document adds them where a route does not describe its own: 413 on every
operation taking a body (:mod:`noiselab.api.body_guard` refuses one over the route's limit),
and 429 on every operation that reads an API key (a request without a key, or with a key that
fails its check, takes a token from the address's rate limit, :mod:`noiselab.api.auth`). And an
operation whose
``response_class`` is not JSON (an HTML page, a CSV file) would have its declared error models
listed under that media type; errors are JSON whatever the route, so they are moved to
``application/json``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
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
    setattr(app, "openapi", _with_error_bodies(app.openapi))  # noqa: B010 (mypy: a method)


_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_ERROR_OUT = "#/components/schemas/ErrorOut"
_AS_ERROR_OUT: dict[str, Any] = {"application/json": {"schema": {"$ref": _ERROR_OUT}}}
_BAD_BODY: dict[str, Any] = {"description": "The body is not JSON.", "content": _AS_ERROR_OUT}
_TOO_LARGE: dict[str, Any] = {
    "description": "A body over the route's size limit.",
    "content": _AS_ERROR_OUT,
}
_THROTTLED: dict[str, Any] = {
    "description": "Too many requests from this address without a valid key (no key, or a "
    "key that failed its check); see `Retry-After`.",
    "content": _AS_ERROR_OUT,
}


def _with_error_bodies(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """``openapi`` with every 422 answering ``ErrorOut`` (see the module docstring)."""

    def patched() -> dict[str, Any]:
        schema = openapi()
        schemas = schema.get("components", {}).get("schemas", {})
        if "ErrorOut" not in schemas:
            return schema
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    if status[0] in "45":
                        _errors_as_json(answer)
                response = operation.get("responses", {}).get("422")
                content = (response or {}).get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref") == _FASTAPI_422:
                    content["schema"] = {"$ref": _ERROR_OUT}
                    response["description"] = "A bad request: `detail` says what and where."
                _add_front_answers(operation)
        if _FASTAPI_422.rsplit("/", 1)[1] not in str(schema.get("paths")):
            schemas.pop("HTTPValidationError", None)
            if "#/components/schemas/ValidationError" not in str(schemas):
                schemas.pop("ValidationError", None)
        return schema

    return patched


def _add_front_answers(operation: dict[str, Any]) -> None:
    """Declare the answers given in front of the route (see the module docstring) where the
    operation does not declare its own: 400 and 413 for a body, 429 where a key is read."""
    responses = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault("400", deepcopy(_BAD_BODY))
        responses.setdefault("413", deepcopy(_TOO_LARGE))
    if any("HTTPBearer" in need for need in operation.get("security", [])):
        responses.setdefault("429", deepcopy(_THROTTLED))


def _errors_as_json(response: dict[str, Any]) -> None:
    """Move an ``ErrorOut`` schema listed under another media type to ``application/json``."""
    content = response.get("content", {})
    if "application/json" in content:
        return
    for media_type, media in list(content.items()):
        if media.get("schema") == {"$ref": _ERROR_OUT}:
            del content[media_type]
            content["application/json"] = media


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


def _json_safe(value: Any) -> Any:
    """``value`` with every non-finite float written as text (``"nan"``, ``"inf"``): a JSON
    body may carry ``NaN`` (Python's parser takes it), and the errors echo the input back."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = {"detail": validation_detail(errors), "errors": _json_safe(jsonable_encoder(errors))}
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
