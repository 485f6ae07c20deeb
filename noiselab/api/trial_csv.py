"""The CSV export of a trial's sensors' levels, streamed in pieces.

One row per sensor and bucket with data: ``sensor_id, role, t, laeq, lafmax, l10, l50, l90,
coverage``; ``t`` is the bucket start in RFC 3339 UTC with ``Z``, levels are dB rounded to
0.01 dB (an empty field where there is none), coverage is measured seconds over bucket seconds
rounded to 0.0001. Lines end in CRLF (RFC 4180). The store is read ``CHUNK_BUCKETS`` buckets at
a time, so a long range at a fine ``every`` never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from noiselab.analysis.buckets import Every
from noiselab.analysis.decibels import round_db
from noiselab.model import rfc3339
from noiselab.store.base import LevelPoint, ReadingStore
from noiselab.store.metadata import Trial

__all__ = ["CHUNK_BUCKETS", "CSV_COLUMNS", "chunks", "csv_rows"]

CHUNK_BUCKETS = 50_000
"""Buckets per store query while streaming an export."""
CSV_COLUMNS = ("sensor_id", "role", "t", "laeq", "lafmax", "l10", "l50", "l90", "coverage")
"""The header row."""


def csv_rows(
    store: ReadingStore,
    trial: Trial,
    *,
    first: datetime,
    last: datetime,
    every: Every,
    zone: ZoneInfo,
) -> Iterator[str]:
    """The CSV text of ``trial``'s sensors' levels in buckets of ``every`` over
    ``[first, last)`` (``1d`` buckets start at local midnight in ``zone``), in pieces of at
    most ``CHUNK_BUCKETS`` buckets per sensor: first the header, then the treated sensors'
    rows, then the control sensors'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    roles = [(sid, "treated") for sid in trial.treated] + [
        (sid, "control") for sid in trial.control
    ]
    for sensor_id, role in roles:
        for lo, hi in chunks(first, last, every):
            for point in store.levels(sensor_id, lo, hi, every, zone):
                writer.writerow(_csv_row(sensor_id, role, point))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def chunks(first: datetime, last: datetime, every: Every) -> Iterator[tuple[datetime, datetime]]:
    """``[first, last)`` cut at multiples of ``CHUNK_BUCKETS`` buckets (epoch-aligned, so no
    bucket is split); ``1d`` in one piece (at most 732 days)."""
    if every.seconds is None:
        yield first, last
        return
    width = every.seconds * CHUNK_BUCKETS
    lo = first
    while lo < last:
        boundary = (lo.timestamp() // width + 1) * width
        hi = min(last, datetime.fromtimestamp(boundary, UTC))
        yield lo, hi
        lo = hi


def _blank(level: float | None) -> object:
    """A level to 0.01 dB for the CSV; an empty field when there is none."""
    return "" if level is None else round_db(level)


def _csv_row(sensor_id: str, role: str, point: LevelPoint) -> list[object]:
    return [
        sensor_id,
        role,
        rfc3339(point.t),
        round_db(point.laeq),
        "" if point.lafmax is None else round_db(point.lafmax),
        _blank(point.l10),
        _blank(point.l50),
        _blank(point.l90),
        round(point.coverage, 4),
    ]
