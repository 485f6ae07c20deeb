"""Each sensor's validity (its corrections and the exclusion and flag spans of the weather,
annotations and calibration log, :mod:`noiselab.validity`) as the answers read it, kept a few
seconds so a repeated request is answered without a database read.

Kept ``ttl_s`` seconds (the registry's cache window) per sensor and weather choice: a correction
or annotation made through this process's API clears it at once (:meth:`changed`); weather and
calibrations arriving through the ingest reach the answers within ``ttl_s``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

from noiselab.api.ttl_cache import TtlCache
from noiselab.store.metadata import MetadataStore
from noiselab.validity import SensorValidity, Validity, WeatherChoice

__all__ = ["ValidityCache"]


class ValidityCache:
    """The :class:`SensorValidity` of each sensor of ``meta``, read at most once per ``ttl_s``
    seconds of ``clock`` (0: on every call). Thread-safe."""

    def __init__(
        self,
        meta: MetadataStore,
        validity: Validity,
        ttl_s: float,
        clock: Callable[[], float],
        max_keys: int = 4096,
    ) -> None:
        self._meta, self._validity = meta, validity
        self._cache: TtlCache[SensorValidity] = TtlCache(ttl_s, clock, max_keys)
        self._generation = 0

    def get(self, sensor_id: str, weather: WeatherChoice = "exclude") -> SensorValidity:
        """The validity of ``sensor_id``; reads the database (blocking) when it is not kept."""

        def read() -> SensorValidity:
            ranges = [c.as_range() for c in self._meta.corrections.active(sensor_id)]
            return self._validity.for_sensor(sensor_id, ranges, weather)

        return self._cache.get((self._generation, sensor_id, weather), read)

    async def get_async(self, sensor_id: str, weather: WeatherChoice = "exclude") -> SensorValidity:
        """:meth:`get` for ``async`` routes: a kept one on the event loop, a read in a thread."""
        kept = self._cache.peek((self._generation, sensor_id, weather))
        if kept is not None:
            return kept
        return await run_in_threadpool(self.get, sensor_id, weather)

    def changed(self) -> None:
        """Forget what is kept: a correction or an annotation was added or withdrawn."""
        self._generation += 1
        self._cache.clear()
