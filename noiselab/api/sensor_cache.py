"""Registered sensors as the API reads them: from the metadata database, each kept a few seconds.

Every sensor route checks first that the caller may see the sensor (``access.visible_sensor``),
which needs the sensor's row. Reading it from the database is a blocking call, so it would send
every request to a worker thread; kept for ``ttl_s`` seconds, a repeated request is answered on
the event loop. The registry changes rarely and only through the CLI (``noiselab sensors ...``,
another process), so a change to a registered sensor (its visibility, its source) reaches the
API within ``ttl_s``; a newly registered sensor is seen at once, because absence is never kept.
"""

from __future__ import annotations

from collections.abc import Callable

from noiselab.api.ttl_cache import TtlCache
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore

__all__ = ["SensorCache"]


class _UnregisteredError(LookupError):
    """Raised inside ``TtlCache.get`` so that an unknown id is not cached."""


class SensorCache:
    """The sensors of ``meta``, each read at most once per ``ttl_s`` seconds of ``clock``
    (0: on every call). Thread-safe."""

    def __init__(
        self, meta: MetadataStore, ttl_s: float, clock: Callable[[], float], max_keys: int = 4096
    ) -> None:
        self._meta = meta
        self._cache: TtlCache[Sensor] = TtlCache(ttl_s, clock, max_keys)

    def peek(self, sensor_id: str) -> Sensor | None:
        """The sensor if it was read within ``ttl_s``, else ``None``; never blocks."""
        return self._cache.peek(sensor_id)

    def get(self, sensor_id: str) -> Sensor | None:
        """The registered sensor ``sensor_id`` or ``None``; reads the database (blocking) when
        it is not kept."""
        try:
            return self._cache.get(sensor_id, lambda: self._read(sensor_id))
        except _UnregisteredError:
            return None

    def _read(self, sensor_id: str) -> Sensor:
        sensor = self._meta.sensors.get(sensor_id)
        if sensor is None:
            raise _UnregisteredError(sensor_id)
        return sensor
