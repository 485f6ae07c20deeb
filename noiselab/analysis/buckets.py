"""Time buckets for level queries: fixed UTC steps, and local calendar days.

``every`` is one of ``1s 1m 5m 15m 1h 1d``. Buckets up to ``1h`` are aligned to the Unix epoch
(which, for Europe/Copenhagen's whole-hour offsets, also aligns hours to local hours); ``1d`` is
aligned to local midnight in the configured zone (default Europe/Copenhagen), so a bucket lasts
23 h or 25 h on daylight-saving days. Edges are real instants computed with ``zoneinfo``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_TZ", "DEFAULT_ZONE", "Every", "bucket_edges", "local_hours_are_utc_hours"]

DEFAULT_TZ = "Europe/Copenhagen"
"""Local zone of the Vallensbæk sensors (SPEC "Units and time")."""

DEFAULT_ZONE = ZoneInfo(DEFAULT_TZ)
"""``DEFAULT_TZ`` as a ``ZoneInfo``."""


class Every(StrEnum):
    """Bucket widths accepted by level queries."""

    S1 = "1s"
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def seconds(self) -> int | None:
        """Fixed width in seconds, or ``None`` for calendar days (23, 24 or 25 h)."""
        return _FIXED_SECONDS.get(self)


_FIXED_SECONDS: dict[Every, int] = {
    Every.S1: 1,
    Every.M1: 60,
    Every.M5: 300,
    Every.M15: 900,
    Every.H1: 3600,
}


def _utc_seconds(t: datetime) -> float:
    if t.tzinfo is None:
        raise ValueError(f"timestamp {t.isoformat()} has no time zone")
    return t.timestamp()


def bucket_edges(
    start: datetime, end: datetime, every: Every, zone: ZoneInfo = DEFAULT_ZONE
) -> npt.NDArray[np.float64]:
    """Edges (Unix seconds, UTC) of the buckets covering ``[start, end)``.

    The first edge is the bucket start at or before ``start``; the last edge is at or after
    ``end``. ``n`` buckets give ``n + 1`` edges; bucket ``i`` is ``[edges[i], edges[i+1])``.
    ``start`` and ``end`` must be time-zone aware and ``start < end``.
    """
    t0, t1 = _utc_seconds(start), _utc_seconds(end)
    if not t0 < t1:
        raise ValueError("start must be before end")
    width = every.seconds
    if width is not None:
        first = math.floor(t0 / width) * width
        last = math.ceil(t1 / width) * width
        count = round((last - first) / width)
        return first + width * np.arange(count + 1, dtype=np.float64)
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    edges: list[float] = []
    while True:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        edges.append(midnight.timestamp())
        if edges[-1] >= t1:
            break
        if day > last_day:  # pragma: no cover - guarded by the check above
            break
        day += timedelta(days=1)
    return np.asarray(edges, dtype=np.float64)


def local_hours_are_utc_hours(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """Whether every local hour of ``zone`` from ``start`` to ``end`` is a whole UTC hour, i.e.
    each local midnight in between lies on a whole UTC hour (true for Europe/Copenhagen, false
    where an offset has half or quarter hours). Periods made of local hours can then be summed
    from hourly roll-ups."""
    edges = bucket_edges(start, end, Every.D1, zone)
    return bool(np.all(np.mod(edges, 3600.0) == 0.0))
