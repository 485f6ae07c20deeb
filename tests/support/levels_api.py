"""What the sensor and level API test modules share: their reference time and the RFC 3339 text
the API writes for an instant."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()  # a whole 5-minute boundary
"""A Monday noon (UTC), far from daylight-saving changes."""


def rfc3339(ts: float) -> str:
    """Unix seconds as the API writes them: whole seconds, UTC, ``Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
