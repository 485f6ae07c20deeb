"""The living map's service for the API: loads the model once in the background, computes each
period's update at most once per its TTL off the event loop, and answers point estimates.

Life cycle: :meth:`SurfaceService.start` loads (or, the first time for an area, builds: about
2 s) the basic maps in a daemon thread, so the API answers at once; until they are ready
:meth:`SurfaceService.context` raises :class:`NotReadyError` (the routes answer 503 with
``Retry-After``). A failed load is logged and reported the same way (the rest of the API is
unaffected). Loaded models are shared by every app of the process with the same cache folder
and source file (tests start many apps).

Each period has a :class:`~noiselab.api.ttl_cache.TtlCache` (one computation at a time, the
previous value served while it is recomputed) with the period's TTL (:mod:`.periods`); point
estimates are kept per update and rounded position (at most :data:`MAX_ESTIMATES`).
Only public sensors with a position take part (see :mod:`.update`).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from noiselab.api.ttl_cache import TtlCache
from noiselab.livemap.context import MapContext, map_context
from noiselab.livemap.estimate import PointEstimate, estimate_at
from noiselab.livemap.periods import PERIODS, PeriodRules
from noiselab.livemap.update import SurfaceUpdate, compute_update
from noiselab.model import Sensor
from noiselab.noisemap.model import NoiseMap
from noiselab.store.base import ReadingStore

__all__ = [
    "MAX_ESTIMATES",
    "NotReadyError",
    "SurfaceService",
    "default_cache_dir",
    "load_noise_map",
]

log = logging.getLogger(__name__)

MAX_ESTIMATES = 4096
ESTIMATE_TTL_S = 3600.0
UNMEASURED_TTL_S = 5.0
"""How long an update no sensor measured is kept (s): right after a start the readings of
the period may still be on their way, and the next request should see them."""
RETRY_AFTER_S = 2

_shared: dict[tuple[str, str], MapContext] = {}
_shared_lock = threading.Lock()


class NotReadyError(Exception):
    """The model is still loading (or failed to); ``retry_after_s`` says when to ask again."""

    def __init__(self, message: str, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def default_cache_dir() -> Path:
    """Where basic maps are cached when no folder is configured: the system's temporary
    folder, ``noiselab-noisemap`` (recomputed after a reboot clears it: about 2 s)."""
    return Path(tempfile.gettempdir()) / "noiselab-noisemap"


def load_noise_map(cache_dir: Path, sources: str) -> MapContext:
    """The model of ``sources`` (a GeoJSON path; empty: the bundled Vallensbæk lines) with
    basic maps in ``cache_dir``, loaded once per process."""
    key = (str(cache_dir), sources)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            nmap = NoiseMap.create(cache_dir, sources_path=sources or None)
            found = _shared[key] = map_context(nmap)
    return found


class SurfaceService:
    """Updates and estimates of the living map over one store and sensor registry.

    ``sensors`` returns the registered sensors (all of them; the service keeps the public
    ones), ``clock`` "now" in Unix seconds."""

    def __init__(
        self,
        *,
        store: ReadingStore,
        sensors: Callable[[], Sequence[Sensor]],
        rules: PeriodRules,
        clock: Callable[[], float],
        cache_dir: Path,
        sources: str = "",
        loader: Callable[[Path, str], MapContext] | None = None,
    ) -> None:
        self._store, self._sensors, self.rules, self._clock = store, sensors, rules, clock
        self._cache_dir, self._sources = cache_dir, sources
        self._loader = loader or load_noise_map
        self._ready = threading.Event()
        self._ctx: MapContext | None = None
        self._error: str | None = None
        self._updates = {
            name: TtlCache[SurfaceUpdate](spec.ttl_s, clock, max_keys=2)
            for name, spec in PERIODS.items()
        }
        self._estimates = TtlCache[PointEstimate](ESTIMATE_TTL_S, clock, max_keys=MAX_ESTIMATES)

    def start(self) -> None:
        """Load the model in a daemon thread (returns at once)."""
        threading.Thread(target=self._load, name="noisemap-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self._ctx = self._loader(self._cache_dir, self._sources)
        except Exception as exc:  # any failure: the map is unavailable, the API keeps running
            log.exception("the noise map could not be loaded from %s", self._cache_dir)
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the load has finished (either way); whether it has."""
        return self._ready.wait(timeout_s)

    def context(self) -> MapContext:
        """The loaded model, or :class:`NotReadyError`."""
        if self._ctx is not None:
            return self._ctx
        if self._ready.is_set():
            raise NotReadyError("the noise map could not be built; see the API log", 60)
        raise NotReadyError("the noise map is still being prepared; retry shortly")

    def peek(self, period: str) -> SurfaceUpdate | None:
        """The fresh update of ``period`` if there is one (no computation, no blocking)."""
        return self._updates[period].peek(period)

    def update(self, period: str) -> SurfaceUpdate:
        """The update of ``period`` (blocking: computes it when stale)."""
        ctx = self.context()
        spec = PERIODS[period]

        def compute() -> SurfaceUpdate:
            public = [s for s in self._sensors() if s.public]
            return compute_update(
                ctx, self._store, public, spec, now=self._clock(), rules=self.rules
            )

        return self._updates[period].get(
            period,
            compute,
            ttl_of=lambda update: spec.ttl_s if update.loo_abs_db.size else UNMEASURED_TTL_S,
        )

    def estimate(self, update: SurfaceUpdate, lon: float, lat: float) -> PointEstimate:
        """The estimate of ``update`` at ``(lon, lat)`` rounded to 1e-5° (about 1 m; blocking,
        kept per position).
        Raises ``ValueError`` outside the map."""
        ctx = self.context()
        key = (update.spec.name, update.updated_at, round(lon, 5), round(lat, 5))
        return self._estimates.get(key, lambda: estimate_at(ctx, update, key[2], key[3]))
