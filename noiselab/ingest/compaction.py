"""Compaction and retention of a SQLite store: in the background of ``noiselab ingest``, and
once by ``noiselab compact``.

What a pass does. It moves every sensor-hour that lies wholly beyond the hot window
(``hot_window_s``, 48 h) into its compressed chunk (``SqliteStore.compact``); then, when
``retention_days`` is set, it removes the raw readings of compacted hours older than that
(``SqliteStore.drop_raw_before``), keeping every roll-up tier. The ingest runs a pass every
``interval_s`` (10 min), the first one interval after it starts. InfluxDB stores are left
alone: InfluxDB compresses its own storage.

Why in steps. The store serialises its callers with a lock, so the ingest's writes wait while
it compacts. ``SqliteStore.compact`` takes the oldest hours of all sensors first and releases
the lock between transactions of ``hours_per_transaction`` hours; a pass calls it for at most
``hours_per_call`` hours at a time (it can stop between calls) until nothing is left or a call
makes no progress (hours the codec cannot take stay hot). Retention works the same way, a
bounded number of hours per ``drop_raw_before`` call.

Errors. A failing pass is logged and counted (``noiselab_ingest_compaction_errors_total``),
and the next pass runs at the next interval: compaction never stops the ingest.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from noiselab.errors import ConfigError, StoreError
from noiselab.ingest.metrics import IngestMetrics
from noiselab.logs import event
from noiselab.store.sqlite import DEFAULT_HOT_WINDOW_S, CompactionReport

__all__ = [
    "DEFAULT_COMPACT_EVERY_S",
    "CompactingStore",
    "CompactionSettings",
    "Compactor",
    "PassResult",
    "compactor_for",
    "shown_duration",
]

log = logging.getLogger("noiselab.ingest.compaction")

HOUR_S = 3600.0
DAY_S = 86_400.0
DEFAULT_COMPACT_EVERY_S = 600.0
"""Seconds between the ingest's compaction passes (``--compact-every 10m``)."""


@runtime_checkable
class CompactingStore(Protocol):
    """The part of a store that compaction uses (``SqliteStore`` has it, InfluxDB not)."""

    def compact(
        self,
        older_than_s: float,
        *,
        now: float | None,
        max_hours: int | None,
        hours_per_transaction: int,
    ) -> CompactionReport: ...

    def drop_raw_before(self, days: float, *, now: float | None, max_hours: int | None) -> int: ...


def shown_duration(seconds: float) -> str:
    """``seconds`` in the largest of d, h, m, s that divides it (``172800`` → ``2d``)."""
    for unit, size in (("d", DAY_S), ("h", HOUR_S), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class CompactionSettings:
    """When and how much to compact. ``enabled`` (``--compact/--no-compact``) only matters to
    the ingest. ``hot_window_s``: hours that ended longer ago are compacted; at least 1 h, so
    that late readings rarely land in a compacted hour (they would thaw it). ``retention_days``
    (``None``: off): raw readings of hours older than that are removed; at least the hot
    window, since only compacted hours lose readings. Raises ``ConfigError`` naming a bad
    value."""

    enabled: bool = True
    hot_window_s: float = DEFAULT_HOT_WINDOW_S
    interval_s: float = DEFAULT_COMPACT_EVERY_S
    retention_days: float | None = None
    hours_per_call: int = 240
    hours_per_transaction: int = 6

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hot_window_s) and self.hot_window_s >= HOUR_S):
            raise ConfigError(
                f"hot window {shown_duration(self.hot_window_s)} (--hot-window, --older-than):"
                " must be at least 1h, as a late reading in a compacted hour thaws it back"
            )
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ConfigError(f"--compact-every {self.interval_s:g}s: must be more than 0")
        if self.hours_per_call < 1 or self.hours_per_transaction < 1:
            raise ConfigError("hours per call and per transaction: must be at least 1")
        days = self.retention_days
        if days is None:
            return
        if not self.enabled:
            raise ConfigError(
                "--retention-days needs --compact: retention runs with the compaction passes"
            )
        if not (math.isfinite(days) and days > 0):
            raise ConfigError(f"--retention-days {days:g}: must be a positive number of days")
        if days * DAY_S < self.hot_window_s:
            raise ConfigError(
                f"--retention-days {days:g} is shorter than the hot window of"
                f" {self.hot_window_s / DAY_S:g} days: raw readings are removed only from"
                " compacted hours, which are older than the hot window; give at least"
                f" {self.hot_window_s / DAY_S:g}"
            )


@dataclass(slots=True)
class PassResult:
    """What one pass did, summed over its calls of ``compact``: sensor-hours compacted
    (``chunks``) and their ``readings``, the chunks' bytes against the hot rows' estimated
    bytes and the bytes saved, hours left hot because a value could not be encoded, hours
    still to compact (``pending``, left for the next pass when it was stopped), how far the
    oldest hot reading lies beyond the hot window (``lag_s``), raw readings removed by
    retention (``dropped``), the pass's duration, and whether ``request_stop`` ended it early
    (``stopped``: the rest, retention included, is left for the next pass)."""

    chunks: int = 0
    readings: int = 0
    chunk_bytes: int = 0
    hot_bytes: int = 0
    bytes_saved: int = 0
    left_hot: int = 0
    pending: int = 0
    lag_s: float = 0.0
    dropped: int = 0
    seconds: float = 0.0
    stopped: bool = False

    @property
    def did_something(self) -> bool:
        """Whether the pass compacted or removed anything."""
        return bool(self.chunks or self.dropped)

    def add(self, report: CompactionReport) -> None:
        """Count one call's report in."""
        self.chunks += report.chunks
        self.readings += report.readings
        self.chunk_bytes += report.chunk_bytes
        self.hot_bytes += report.hot_bytes
        self.bytes_saved += report.bytes_saved
        self.left_hot += report.left_hot


Step = Callable[[CompactionReport], object]
"""Called after each call of ``compact`` with its report (``noiselab compact`` prints it)."""


class Compactor:
    """Runs passes over ``store`` as ``settings`` say, counting into ``metrics`` (if given);
    ``clock`` gives "now" in Unix seconds. ``start`` runs them every ``interval_s`` in a
    background thread until ``request_stop``; ``run_pass`` runs one in the caller's."""

    def __init__(
        self,
        store: CompactingStore,
        settings: CompactionSettings,
        metrics: IngestMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the background thread ------------------------------------------------------------

    def start(self) -> None:
        """Run a pass every ``interval_s`` in a thread, the first one interval from now."""
        s = self.settings
        event(
            log,
            "compaction on",
            hot_window=shown_duration(s.hot_window_s),
            every=shown_duration(s.interval_s),
            retention_days="off" if s.retention_days is None else f"{s.retention_days:g}",
        )
        self._thread = threading.Thread(target=self.run, name="noiselab-compaction", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Stop after the current call of the store (signal-safe: sets an event)."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the thread to end; True when it has (or never started)."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def run(self) -> None:
        """Run passes every ``interval_s`` until ``request_stop``; a failing pass is logged
        and counted, never raised."""
        while not self._stop.wait(self.settings.interval_s):
            self.run_logged_pass()

    def run_logged_pass(self) -> PassResult | None:
        """One pass, logged (INFO when it did something) and counted; ``None`` when it
        failed (logged and counted in ``compaction_errors``)."""
        try:
            result = self.run_pass()
        except Exception as exc:
            if self.metrics is not None:
                self.metrics.compaction_errors.inc()
            if isinstance(exc, StoreError):
                event(
                    log,
                    "compaction pass failed; trying again at the next interval",
                    level=logging.WARNING,
                    error=str(exc),
                )
            else:
                log.exception("compaction pass failed; trying again at the next interval")
            return None
        event(
            log,
            "compaction pass",
            level=logging.INFO if result.did_something else logging.DEBUG,
            chunks=result.chunks,
            readings=result.readings,
            bytes_saved=result.bytes_saved,
            dropped=result.dropped,
            pending_hours=result.pending,
            lag_s=round(result.lag_s),
            seconds=round(result.seconds, 3),
        )
        return result

    # -- one pass --------------------------------------------------------------------------

    def run_pass(self, on_step: Step | None = None) -> PassResult:
        """Compact everything beyond the hot window (then apply retention), in calls of at
        most ``hours_per_call`` hours; stops early after ``request_stop``."""
        started = time.monotonic()
        now = self._clock()
        result = PassResult()
        while not self._stop.is_set():
            report = self._step(now, result, on_step)
            result.pending, result.lag_s = report.pending, report.lag_s
            if not (report.pending > 0 and report.chunks > 0):
                break  # caught up, or only hours the codec cannot take are left
        days = self.settings.retention_days
        while days is not None and not self._stop.is_set():
            removed = self.store.drop_raw_before(
                days, now=now, max_hours=self.settings.hours_per_call
            )
            result.dropped += removed
            if self.metrics is not None:
                self.metrics.retention_dropped.inc(removed)
            if removed == 0:
                break
        result.seconds = time.monotonic() - started
        result.stopped = self._stop.is_set()
        if self.metrics is not None:
            self.metrics.compaction_lag.set(result.lag_s)
            self.metrics.compaction_pending.set(result.pending)
            self.metrics.compaction_pass_seconds.set(result.seconds)
        return result

    def _step(self, now: float, result: PassResult, on_step: Step | None) -> CompactionReport:
        """One call: compact at most ``hours_per_call`` hours beyond the hot window."""
        report = self.store.compact(
            self.settings.hot_window_s,
            now=now,
            max_hours=self.settings.hours_per_call,
            hours_per_transaction=self.settings.hours_per_transaction,
        )
        result.add(report)
        if self.metrics is not None:
            self.metrics.compaction_chunks.inc(report.chunks)
            self.metrics.compaction_readings.inc(report.readings)
            self.metrics.compaction_bytes_saved.inc(report.bytes_saved)
        if on_step is not None:
            on_step(report)
        return report


def compactor_for(
    store: object, settings: CompactionSettings, metrics: IngestMetrics | None = None
) -> Compactor | None:
    """The ingest's compactor of ``store``, or ``None`` when compaction is off or the store
    compresses its own storage (InfluxDB; logged once)."""
    if not settings.enabled:
        return None
    if not isinstance(store, CompactingStore):
        event(log, "compaction off: the store compresses its own storage")
        return None
    return Compactor(store, settings, metrics)
