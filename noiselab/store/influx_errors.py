"""InfluxDB and transport errors as the store's own errors: what the ingest retries
(``StoreUnavailable``: 429, 5xx, no answer), what it quarantines (``ReadingRejected``: a write
refused with 400/422) and everything else (``StoreError``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from noiselab.errors import ReadingRejected, StoreError, StoreUnavailable

__all__ = ["error_message", "translated_errors"]


@contextmanager
def translated_errors(action: str, *, write: bool) -> Iterator[None]:
    """InfluxDB and transport errors as ``StoreError`` subclasses ."""
    try:
        yield
    except ApiException as exc:
        status = int(exc.status or 0)
        detail = f"InfluxDB: cannot {action}: HTTP {status} {error_message(exc)}"
        if status == 429 or status >= 500 or status == 0:
            raise StoreUnavailable(detail) from exc
        if write and status in (400, 422):
            raise ReadingRejected(detail) from exc
        raise StoreError(detail) from exc
    except (HTTPError, OSError) as exc:
        raise StoreUnavailable(f"InfluxDB: cannot {action}: {exc}") from exc


def error_message(exc: ApiException) -> str:
    """InfluxDB's ``{"code": ..., "message": ...}`` error body, or the reason phrase."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("message"):
        return f"({parsed.get('code', 'error')}): {parsed['message']}"
    return str(exc.reason or body or "")
