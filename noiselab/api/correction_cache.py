"""The active corrections of each sensor as the indicators route reads them: from the metadata
database, kept a few seconds.

The daily indicators are answered from memory on the event loop when they were computed
before (:mod:`noiselab.api.routes.indicators`); they are kept per sensor *and* per set of its
active corrections, so that set must be known without a blocking read on every request. It is
kept ``ttl_s`` seconds (the registry's cache window): a correction added or withdrawn through
this process's API clears it at once; one made by the ``noiselab corrections`` command or
another API process reaches the answers within ``ttl_s``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

from noiselab.api.ttl_cache import TtlCache
from noiselab.store.metadata import Correction, MetadataStore

__all__ = ["CorrectionCache"]


class CorrectionCache:
    """The active corrections of each sensor of ``meta`` (oldest first), each read at most once
    per ``ttl_s`` seconds of ``clock`` (0: on every call). Thread-safe."""

    def __init__(
        self,
        meta: MetadataStore,
        ttl_s: float,
        clock: Callable[[], float],
        max_keys: int = 4096,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._meta = meta
        self._on_change = on_change
        self._cache: TtlCache[tuple[Correction, ...]] = TtlCache(ttl_s, clock, max_keys)
        # Keys carry a generation, so a read that began before a change cannot be kept after it.
        self._generation = 0

    def get(self, sensor_id: str) -> tuple[Correction, ...]:
        """The active corrections of ``sensor_id``; reads the database (blocking) when they are
        not kept."""
        return self._cache.get(
            (self._generation, sensor_id),
            lambda: tuple(self._meta.corrections.active(sensor_id)),
        )

    async def get_async(self, sensor_id: str) -> tuple[Correction, ...]:
        """:meth:`get` for ``async`` routes: kept ones on the event loop, a database read in a
        worker thread."""
        kept = self._cache.peek((self._generation, sensor_id))
        if kept is not None:
            return kept
        return await run_in_threadpool(self.get, sensor_id)

    def changed(self) -> None:
        """Forget what is kept: a correction was added or withdrawn (``on_change`` is told)."""
        self._generation += 1
        self._cache.clear()
        if self._on_change is not None:
            self._on_change()
