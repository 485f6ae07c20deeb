"""Committing the side messages of an ingest batch (:mod:`noiselab.ingest.side_topics`): a
weather station's observations through :func:`~noiselab.ingest.weather_commit.commit_weather`
and a sensor's calibrator-tone checks through a :class:`ToneSink`.

Delivery. Each commit runs through the worker's ``durably`` (store errors retried with backoff,
see :class:`Durably`) and is durable when it returns. Both are idempotent: a retry, or a batch
re-delivered after a crash, stores nothing twice. What they refuse comes back as rejections,
which the worker quarantines with the rest of the batch before it acknowledges the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from noiselab.ingest.side_topics import SideMessages
from noiselab.ingest.tone import ToneCheck
from noiselab.ingest.weather_commit import WeatherRegistry, commit_weather
from noiselab.model import Rejection, WeatherObservation
from noiselab.store.base import ReadingStore

__all__ = ["Durably", "SideCommitter", "ToneSink"]

_T = TypeVar("_T")


class Durably(Protocol):
    """Runs an operation until it succeeds, retrying store errors (the worker's retry loop);
    raises only what retrying cannot help."""

    def __call__(self, operation: Callable[[], _T], /) -> _T: ...


class ToneSink(Protocol):
    """Where tone checks go (``noiselab.calibration.ToneCheckRecorder``): logged durably and
    judged for drift; the checks it refuses (an unknown sensor, a conflict with the check
    logged for that instant) come back for the quarantine. Raises ``StoreError`` on an outage
    (retried: logging a check is idempotent)."""

    def record(self, checks: Sequence[ToneCheck]) -> list[Rejection]: ...


@dataclass(frozen=True, slots=True)
class SideCommitter:
    """Commits the side messages of the worker's batches (module docstring). ``tones`` is
    ``None`` when the worker takes no tone checks; ``clock`` (Unix s) stamps the weather's
    quarantine records and receive times."""

    store: ReadingStore
    registry: WeatherRegistry
    tones: ToneSink | None
    topic_prefix: str
    clock: Callable[[], float] = time.time

    def commit(self, side: SideMessages, durably: Durably) -> list[Rejection]:
        """Durably commit ``side``'s weather observations, then its tone checks; the
        rejections of both, in that order, for the caller to quarantine before it
        acknowledges."""
        rejections: list[Rejection] = []
        if side.weather:
            weather = side.weather
            committed = durably(
                lambda: commit_weather(
                    self.store, self.registry, weather, self._weather_topic, self.clock()
                )
            )
            rejections.extend(committed.rejections)
        if side.tones and self.tones is not None:
            sink, tones = self.tones, side.tones
            rejections.extend(durably(lambda: sink.record(tones)))
        return rejections

    def _weather_topic(self, observation: WeatherObservation) -> str:
        """The topic an observation came in on, for its quarantine record."""
        return f"{self.topic_prefix}/{observation.station_id}/weather"
