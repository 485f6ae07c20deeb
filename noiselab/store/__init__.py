"""Time-series stores behind one protocol, and the metadata database beside them."""

from __future__ import annotations

from collections.abc import Callable

from noiselab.config import parse_store_url
from noiselab.errors import ConfigError
from noiselab.store.base import LevelPoint, ReadingStore, SensorActivity, WriteResult

__all__ = ["LevelPoint", "ReadingStore", "SensorActivity", "WriteResult", "open_store"]


def open_store(url: str, source_of: Callable[[str], str | None] | None = None) -> ReadingStore:
    """Open the store a ``--store`` URL names: a SQLite file (created with its directory) or
    InfluxDB (extra ``influx``; token in ``NOISELAB_INFLUX_TOKEN``). ``source_of(sensor_id)``
    gives the sensors' source types for InfluxDB's ``source`` tag (e.g.
    ``MetadataStore.sensors.source_of``)."""
    parsed = parse_store_url(url)
    if parsed.kind == "sqlite" and parsed.path is not None:
        from noiselab.store.sqlite import SqliteStore

        parsed.path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(parsed.path)
    if parsed.kind == "influxdb":
        try:
            from noiselab.store.influx import open_influx_store
        except ImportError as exc:
            raise ConfigError(
                f"store URL {url!r} needs the InfluxDB client: pip install 'noiselab[influx]'"
            ) from exc
        return open_influx_store(url, source_of)
    raise ConfigError(f"store URL {url!r}: unsupported store")
