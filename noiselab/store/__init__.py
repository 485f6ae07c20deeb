"""Time-series stores behind one protocol, and the metadata database beside them."""

from __future__ import annotations

from noiselab.config import parse_store_url
from noiselab.errors import ConfigError
from noiselab.store.base import LevelPoint, ReadingStore, SensorActivity, WriteResult

__all__ = ["LevelPoint", "ReadingStore", "SensorActivity", "WriteResult", "open_store"]


def open_store(url: str) -> ReadingStore:
    """Open the store a ``--store`` URL names (creating a SQLite file and its directory)."""
    parsed = parse_store_url(url)
    if parsed.kind == "sqlite" and parsed.path is not None:
        from noiselab.store.sqlite import SqliteStore

        parsed.path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(parsed.path)
    raise ConfigError(f"store URL {url!r}: the {parsed.kind} adapter is not available yet")
