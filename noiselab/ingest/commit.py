"""Storing validated readings: shared by the MQTT worker and the HTTP push endpoint.

Both paths judge readings with the same parsers, then hand them here: readings of sensors that
are not registered become "unknown sensor" rejections, the rest go to the store in one write,
and if the store refuses some readings for their values each is written alone so the refused
ones can be quarantined without holding back the others. Readings that conflict with a stored
one (``WriteResult.conflicts``: history is immutable) become rejections too, with both values.
What the caller does on an outage (retry with backoff in the worker, 503 over HTTP) stays with
the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import msgspec

from noiselab.errors import ReadingRejected
from noiselab.ingest.reasons import CONFLICT
from noiselab.model import Reading, Rejection
from noiselab.store.base import WriteResult
from noiselab.store.conflicts import Conflict

__all__ = ["conflicting", "split_unknown", "store_refused", "unknown_sensor", "write_isolating"]

Write = Callable[[Sequence[Reading]], WriteResult]
"""Writes readings durably; raises ``ReadingRejected`` for values the store cannot take."""
TopicOf = Callable[[Reading], str]
"""Where a reading came from, for its quarantine record (an MQTT topic or an HTTP route)."""


def unknown_sensor(reading: Reading, topic: str, now: float) -> Rejection:
    """The rejection of a reading whose sensor is not registered."""
    return Rejection(
        topic=topic,
        sensor_id=reading.sensor_id,
        raw=msgspec.json.encode(reading),
        reason=(
            f"unknown sensor {reading.sensor_id!r}: register it (noiselab sensors add) "
            "or run the ingest with --auto-register"
        ),
        received_at=now,
    )


def store_refused(reading: Reading, topic: str, now: float, exc: ReadingRejected) -> Rejection:
    """The rejection of a reading the store refused for its values."""
    return Rejection(
        topic=topic,
        sensor_id=reading.sensor_id,
        raw=msgspec.json.encode(reading),
        reason=f"the store refused the reading: {exc}",
        received_at=now,
    )


def conflicting(conflict: Conflict, topic: str, now: float) -> Rejection:
    """The rejection of a reading that differs from the one stored for its sensor and ``ts``:
    ``raw`` the offered reading, the reason ``conflicts with stored reading: at <ts>: <field>
    stored <value>, offered <value>; ...``. The same conflict offered again gives the same
    rejection, which the quarantine keeps once."""
    return Rejection(
        topic=topic,
        sensor_id=conflict.offered.sensor_id,
        raw=msgspec.json.encode(conflict.offered),
        reason=f"{CONFLICT}: {conflict.detail()}",
        received_at=now,
    )


def split_unknown(
    readings: Sequence[Reading], unknown: Collection[str], topic_of: TopicOf, now: float
) -> tuple[list[Reading], list[Rejection]]:
    """The readings of registered sensors, and rejections for those of ``unknown`` ids."""
    kept = [r for r in readings if r.sensor_id not in unknown]
    refused = [unknown_sensor(r, topic_of(r), now) for r in readings if r.sensor_id in unknown]
    return kept, refused


def write_isolating(
    write: Write, readings: Sequence[Reading], topic_of: TopicOf, now: float
) -> tuple[WriteResult, list[Rejection]]:
    """Write ``readings``; if the store refuses the batch for a reading's values, write each
    alone and return rejections for those it still refuses, and for every conflict with a
    stored reading. Other store errors propagate."""
    try:
        result = write(readings)
    except ReadingRejected:
        result, refused = _one_by_one(write, readings, topic_of, now)
    else:
        refused = []
    refused.extend(conflicting(c, topic_of(c.offered), now) for c in result.conflicts)
    return result, refused


def _one_by_one(
    write: Write, readings: Sequence[Reading], topic_of: TopicOf, now: float
) -> tuple[WriteResult, list[Rejection]]:
    inserted = unchanged = 0
    conflicts: list[Conflict] = []
    refused: list[Rejection] = []
    for reading in readings:
        try:
            part = write([reading])
        except ReadingRejected as exc:
            refused.append(store_refused(reading, topic_of(reading), now, exc))
            continue
        inserted += part.inserted
        unchanged += part.unchanged
        conflicts.extend(part.conflicts)
    return WriteResult(inserted, unchanged, tuple(conflicts)), refused
