"""Compaction and retention of a SQLite store: in the background of ``noiselab ingest``, and
once by ``noiselab compact``.

What a pass does. It moves every sensor-hour that lies wholly beyond the hot window
(``hot_window_s``, 48 h) into its compressed chunk (``SqliteStore.compact``); then, when
``retention_days`` is set, it removes the raw readings of compacted hours older than that
(``SqliteStore.drop_raw_before``), keeping every roll-up tier. The ingest runs a pass every
``interval_s`` (10 min), the first one interval after it starts. InfluxDB stores are left
alone: InfluxDB compresses its own storage.

Why in steps. The store serialises its callers with a lock, so the ingest's writes wait while
it compacts. ``SqliteStore.compact`` releases the lock between transactions of
``hours_per_transaction`` hours, but before the first it lists, under the lock, every hot hour
before its cutoff, and after the last it scans the hot readings for the lag (measured: about
40 ms per million hot readings, 12 µs per hour listed). A pass therefore calls it with at most
``hours_per_call`` hours at a time (and can stop between calls), and when the backlog is
bigger than one call (the first pass over a store that was never compacted) it walks forward
from the oldest hot reading in time slices of about ``hours_per_call`` sensor-hours, each call
listing only its slice rather than the whole backlog again. Retention walks forward the same
way from the oldest data, since ``drop_raw_before`` rewrites every chunk it drops in one
transaction. The scan for the lag still covers every hot reading, so a big backlog is better
worked off by ``noiselab compact`` in its own process, where it is a plain read that holds no
write back; the ingest logs a warning when it meets one.

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
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from noiselab.errors import ConfigError, StoreError
from noiselab.ingest.metrics import IngestMetrics
from noiselab.logs import event
from noiselab.store.base import SensorActivity, Series
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
BACKLOG_CALLS = 10
"""A backlog of more than this many calls is logged as a warning by the ingest's compactor."""
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""No reading is older (the ingest refuses them), so every store's history starts after it."""


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

    def drop_raw_before(self, days: float, *, now: float | None) -> int: ...

    def activity(self) -> list[SensorActivity]: ...

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series: ...


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
        *,
        warn_backlog: bool = False,
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self._clock = clock
        self._warn_backlog = warn_backlog
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retained_until: float | None = None

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
        cutoff = _hour_floor(now - self.settings.hot_window_s)
        result = PassResult()
        first = self._step(cutoff, result, on_step)
        result.pending, result.lag_s = first.pending, first.lag_s
        if _more(first):
            self._catch_up(cutoff, cutoff - first.lag_s, result, on_step)
        if self.settings.retention_days is not None and not self._stop.is_set():
            result.dropped = self._drop_raw(now, self.settings.retention_days)
        result.seconds = time.monotonic() - started
        result.stopped = self._stop.is_set()
        if self.metrics is not None:
            self.metrics.compaction_lag.set(result.lag_s)
            self.metrics.compaction_pending.set(result.pending)
            self.metrics.compaction_pass_seconds.set(result.seconds)
        return result

    def _catch_up(
        self, cutoff: float, oldest: float, result: PassResult, on_step: Step | None
    ) -> None:
        """A backlog bigger than one call: compact it slice by slice from ``oldest``, then
        up to ``cutoff`` until nothing is left or no call makes progress."""
        if self._warn_backlog and result.pending > BACKLOG_CALLS * self.settings.hours_per_call:
            event(
                log,
                "compaction backlog: each call scans the uncompacted readings while the"
                " ingest's writes wait; `noiselab compact` in its own process works it off"
                " without holding them back",
                level=logging.WARNING,
                pending_hours=result.pending,
                lag_s=round(result.lag_s),
            )
        width = self._slice_s()
        edge = _hour_floor(oldest) + width
        while edge < cutoff and not self._stop.is_set():
            report = self._step(edge, result, on_step)
            result.pending = max(0, result.pending - report.chunks)
            if not _more(report):
                edge += width
        while not self._stop.is_set():
            report = self._step(cutoff, result, on_step)
            result.pending, result.lag_s = report.pending, report.lag_s
            if not _more(report):
                return

    def _slice_s(self) -> float:
        """Whole hours holding about ``hours_per_call`` sensor-hours of all sensors."""
        sensors = max(1, len(self.store.activity()))
        return HOUR_S * max(1, self.settings.hours_per_call // sensors)

    def _step(self, cutoff: float, result: PassResult, on_step: Step | None) -> CompactionReport:
        """One call: compact hours that end by ``cutoff`` (a whole hour, Unix s)."""
        # The store compacts what ended older_than_s before now: 0 s before the cutoff.
        report = self.store.compact(
            0.0,
            now=cutoff,
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

    def _drop_raw(self, now: float, days: float) -> int:
        """Retention up to ``days`` before ``now``, walking in slices from where the last
        pass ended (the first time: from the oldest data), as each ``drop_raw_before`` call
        is one transaction over every chunk it drops."""
        keep_s = days * DAY_S
        cutoff = _hour_floor(now - keep_s)
        start = self._retained_until
        if start is None:
            start = self._oldest_hour(cutoff)
        dropped = 0
        if start is not None:
            width = self._slice_s()
            edge = _hour_floor(start) + width
            while edge < cutoff and not self._stop.is_set():
                dropped += self._count_dropped(self.store.drop_raw_before(days, now=edge + keep_s))
                edge += width
        if not self._stop.is_set():
            dropped += self._count_dropped(self.store.drop_raw_before(days, now=now))
            self._retained_until = cutoff
        return dropped

    def _count_dropped(self, removed: int) -> int:
        if self.metrics is not None:
            self.metrics.retention_dropped.inc(removed)
        return removed

    def _oldest_hour(self, before: float) -> float | None:
        """The first hour (Unix s) of any sensor's hourly roll-up before ``before``."""
        end = datetime.fromtimestamp(before, UTC)
        if end <= _EPOCH:
            return None
        firsts = [
            float(hours.ts[0])
            for activity in self.store.activity()
            if len(hours := self.store.hour_series(activity.sensor_id, _EPOCH, end))
        ]
        return min(firsts, default=None)


def _more(report: CompactionReport) -> bool:
    """Whether a call left hours to do and made progress (an hour that cannot be encoded
    stays hot; calls that only meet such hours would repeat forever)."""
    return report.pending > 0 and report.chunks > 0


def _hour_floor(ts: float) -> float:
    return math.floor(ts / HOUR_S) * HOUR_S


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
    return Compactor(store, settings, metrics, warn_backlog=True)
