"""Storing validated weather observations: shared by the MQTT worker and the HTTP push.

The steps, each durable before the next:

1. observations of stations that are not registered become ``unknown weather station``
   rejections;
2. the rest go to the reading store in one write (``ReadingStore.write_weather``); if the
   store refuses the batch for an observation's values, each is written alone and the refused
   ones become rejections; observations that differ from the stored one for their
   ``(station_id, ts)`` come back as conflicts and become rejections with the reason
   ``conflicts with stored reading: ...`` (history is immutable, as for noise readings);
3. the stored observations (new and re-delivered alike, so a worker killed after step 2 loses
   nothing on redelivery) are judged by the ISO 1996-2 rule and their invalid intervals merged
   into the station's exclusion spans (idempotent: :mod:`noiselab.store.metadata.
   weather_exclusions`).

The caller quarantines the rejections and then acknowledges (MQTT) or answers (HTTP). Store
errors other than refused values propagate: the worker retries, the push answers 503.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol

import msgspec

from noiselab.errors import ReadingRejected
from noiselab.ingest.reasons import CONFLICT
from noiselab.model import Rejection, WeatherObservation
from noiselab.store.weather_base import WeatherConflict, WeatherWriteResult

__all__ = ["WeatherCommitted", "WeatherRegistry", "commit_weather"]

TopicOf = Callable[[WeatherObservation], str]
"""Where an observation came from, for its quarantine record (an MQTT topic or a route)."""


class _Stations(Protocol):
    def heights(self, station_ids: Iterable[str]) -> dict[str, float]: ...


class _Exclusions(Protocol):
    def record(
        self, station_id: str, observations: Sequence[WeatherObservation], anemometer_m: float
    ) -> int: ...


class WeatherRegistry(Protocol):
    """The part of the metadata store the weather path needs (``MetadataStore``)."""

    @property
    def weather(self) -> _Stations: ...

    @property
    def weather_exclusions(self) -> _Exclusions: ...


class _WeatherWriter(Protocol):
    def write_weather(
        self, observations: Sequence[WeatherObservation], received_at: float
    ) -> WeatherWriteResult: ...


class WeatherCommitted(NamedTuple):
    """What a commit did: observations stored (new or identical to the stored ones), the
    exclusion span rows written, and the rejections for the caller to quarantine."""

    stored: int
    spans_written: int
    rejections: list[Rejection]


def _rejection(observation: WeatherObservation, topic: str, reason: str, now: float) -> Rejection:
    raw = msgspec.json.encode(observation)
    return Rejection(topic, observation.station_id, raw, reason, now)


def commit_weather(
    store: _WeatherWriter,
    registry: WeatherRegistry,
    observations: Sequence[WeatherObservation],
    topic_of: TopicOf,
    now: float,
) -> WeatherCommitted:
    """Store ``observations``, record their exclusion spans and return what was refused (see
    the module docstring)."""
    heights = registry.weather.heights(o.station_id for o in observations)
    rejections = [
        _rejection(
            o,
            topic_of(o),
            f"unknown weather station {o.station_id!r}: register it "
            "(noiselab weather stations add)",
            now,
        )
        for o in observations
        if o.station_id not in heights
    ]
    known = [o for o in observations if o.station_id in heights]
    if not known:
        return WeatherCommitted(0, 0, rejections)
    result, refused, left_out = _write_isolating(store, known, topic_of, now)
    rejections.extend(refused)
    left_out |= {id(c.offered) for c in result.conflicts}
    stored = [o for o in known if id(o) not in left_out]
    spans = 0
    for station_id in sorted({o.station_id for o in stored}):
        spans += registry.weather_exclusions.record(station_id, stored, heights[station_id])
    return WeatherCommitted(result.inserted + result.unchanged, spans, rejections)


def _write_isolating(
    store: _WeatherWriter,
    observations: list[WeatherObservation],
    topic_of: TopicOf,
    now: float,
) -> tuple[WeatherWriteResult, list[Rejection], set[int]]:
    """Write all; if the store refuses the batch for values, each alone. Conflicts become
    rejections with both values. Also returns the identities of the refused observations."""
    refused: list[Rejection] = []
    left_out: set[int] = set()
    try:
        result = store.write_weather(observations, now)
    except ReadingRejected:
        inserted = unchanged = 0
        conflicts: list[WeatherConflict] = []
        for o in observations:
            try:
                part = store.write_weather([o], now)
            except ReadingRejected as exc:
                reason = f"the store refused the observation: {exc}"
                refused.append(_rejection(o, topic_of(o), reason, now))
                left_out.add(id(o))
                continue
            inserted += part.inserted
            unchanged += part.unchanged
            conflicts.extend(part.conflicts)
        result = WeatherWriteResult(inserted, unchanged, tuple(conflicts))
    for conflict in result.conflicts:
        offered = conflict.offered
        reason = f"{CONFLICT}: {conflict.detail()}"
        refused.append(_rejection(offered, topic_of(offered), reason, now))
    return result, refused, left_out
