"""Background compaction and retention of a SQLite store (``noiselab.ingest.compaction``) on
real SQLite files: what a pass compacts and removes, its bounded calls of the store, its
metrics and log lines, the background thread with its errors, and its settings."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from support.compaction import HOUR, PER_HOUR, fill, hour_of
from support.pipeline import publish_all

from noiselab.broker import MosquittoBroker
from noiselab.config import parse_mqtt_url
from noiselab.errors import ConfigError, StoreUnavailable
from noiselab.ingest.compaction import (
    CompactionSettings,
    Compactor,
    compactor_for,
    shown_duration,
)
from noiselab.ingest.metrics import IngestMetrics
from noiselab.ingest.worker import IngestSettings, IngestWorker
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import CompactionReport, SqliteStore

NOW = 1_795_600_800.0  # 2026-11-25T10:00:00Z, a whole hour
assert NOW % HOUR == 0
SENSORS = ["s-0", "s-1", "s-2"]
OLD = NOW - 72 * HOUR
"""12 hours of every sensor from here are old (beyond the 48-h hot window) ..."""
RECENT = NOW - 2 * HOUR
"""... and 2 hours from here are hot."""


class RecordingStore(SqliteStore):
    """The real store, remembering each call of ``compact`` (cutoff, max_hours, report) and
    failing the next calls with ``fail_next``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, synchronous="NORMAL")
        self.calls: list[tuple[float, int | None, CompactionReport]] = []
        self.fail_next: list[Exception] = []

    def compact(self, older_than_s: float = 48 * HOUR, **kw: Any) -> CompactionReport:
        if self.fail_next:
            raise self.fail_next.pop(0)
        report = super().compact(older_than_s, **kw)
        self.calls.append((kw["now"] - older_than_s, kw["max_hours"], report))
        return report


@pytest.fixture
def store(tmp_path: Path):
    with RecordingStore(tmp_path / "readings.db") as made:
        fill(made, SENSORS, OLD, 12, received=OLD + 12 * HOUR)
        fill(made, SENSORS, RECENT, 2, received=NOW)
        yield made


def chunk_rows(store: SqliteStore) -> int:
    with sqlite3.connect(store.path) as conn:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def hourly(store: SqliteStore, sensor_id: str) -> list[tuple[float, ...]]:
    """Every hourly level of the sensor: (start, LAeq, L10, L50, L90, LAFmax, coverage)."""
    points = store.levels(
        sensor_id, datetime.fromtimestamp(OLD, UTC), datetime.fromtimestamp(NOW, UTC), "1h"
    )
    return [(p.t.timestamp(), p.laeq, p.l10, p.l50, p.l90, p.lafmax, p.coverage) for p in points]


def sample(metrics: IngestMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


# --------------------------------------------------------------------------- one pass


def test_a_pass_compacts_every_hour_beyond_the_hot_window_and_counts_it(store) -> None:
    """12 old hours of 3 sensors become 36 chunks; the 2 recent hours stay hot; every reading
    is still there and reads back the same; the counters say what happened."""
    before = store.readings("s-1", OLD, NOW)
    levels = hourly(store, "s-1")
    metrics = IngestMetrics()
    result = Compactor(store, CompactionSettings(), metrics, clock=lambda: NOW).run_pass()
    assert (result.chunks, result.readings) == (36, 36 * PER_HOUR)
    assert (result.pending, result.lag_s, result.left_hot, result.stopped) == (0, 0.0, 0, False)
    assert result.bytes_saved == result.hot_bytes - result.chunk_bytes > 0
    assert chunk_rows(store) == 36
    assert store.count_readings() == 14 * 3 * PER_HOUR
    assert store.readings("s-1", OLD, NOW) == before
    assert hourly(store, "s-1") == levels
    assert sample(metrics, "noiselab_ingest_compaction_chunks_total") == 36
    assert sample(metrics, "noiselab_ingest_compaction_readings_total") == 36 * PER_HOUR
    assert sample(metrics, "noiselab_ingest_compaction_bytes_saved_total") == result.bytes_saved
    assert sample(metrics, "noiselab_ingest_compaction_lag_seconds") == 0
    assert sample(metrics, "noiselab_ingest_compaction_pending_hours") == 0
    assert sample(metrics, "noiselab_ingest_compaction_pass_seconds") == result.seconds > 0
    assert sample(metrics, "noiselab_ingest_retention_readings_dropped_total") == 0
    again = Compactor(store, CompactionSettings(), metrics, clock=lambda: NOW).run_pass()
    assert (again.chunks, again.did_something) == (0, False)


def test_a_backlog_is_compacted_in_bounded_calls_oldest_first(store) -> None:
    """4 hours per call over 3 sensors' 12 old hours: nine calls of 4, oldest hours first
    across the sensors, each reporting what is left; a last call finds nothing."""
    settings = CompactionSettings(hours_per_call=4, hours_per_transaction=2)
    result = Compactor(store, settings, clock=lambda: NOW).run_pass()
    assert (result.chunks, result.pending, result.lag_s) == (36, 0, 0.0)
    assert all(max_hours == 4 for _, max_hours, _ in store.calls)
    assert [r.chunks for _, _, r in store.calls] == [4] * 9
    first = store.calls[0][2]
    cutoff = NOW - 48 * HOUR
    assert first.lag_s == cutoff - (OLD + HOUR)  # s-0 and s-1 done with their first hour
    assert first.pending == 3 * 24 - 4  # an upper bound: every hour from the oldest hot one


def test_retention_removes_the_raw_readings_of_old_hours_and_keeps_their_levels(store) -> None:
    """Retention of 2.75 days (66 h): the 6 oldest hours lose their raw readings, 3
    sensor-hours per call; every hourly level, percentile and coverage stays as it was."""
    levels = hourly(store, "s-0")
    kept = store.readings("s-0", OLD + 6 * HOUR, NOW)
    metrics = IngestMetrics()
    settings = CompactionSettings(retention_days=2.75, hours_per_call=3)
    result = Compactor(store, settings, metrics, clock=lambda: NOW).run_pass()
    assert result.dropped == 3 * 6 * PER_HOUR
    assert sample(metrics, "noiselab_ingest_retention_readings_dropped_total") == result.dropped
    assert store.count_readings() == 3 * 8 * PER_HOUR
    assert store.readings("s-0", OLD, OLD + 6 * HOUR) == []
    assert store.readings("s-0", OLD + 6 * HOUR, NOW) == kept
    assert hourly(store, "s-0") == levels
    assert Compactor(store, settings, metrics, clock=lambda: NOW).run_pass().dropped == 0


def test_a_stopped_pass_leaves_the_rest_for_the_next(store) -> None:
    compactor = Compactor(
        store, CompactionSettings(hours_per_call=4, retention_days=2.75), clock=lambda: NOW
    )
    result = compactor.run_pass(on_step=lambda _: compactor.request_stop())
    # The 4 oldest sensor-hours: hour 0 of every sensor, hour 1 of s-0. What waits is an
    # upper bound: s-0 from hour 2, the others from hour 1, to 24 h after OLD.
    assert (result.chunks, result.pending, result.dropped, result.stopped) == (4, 68, 0, True)
    assert result.lag_s == NOW - 48 * HOUR - (OLD + HOUR)


def test_a_pass_logs_one_info_line_when_it_did_something(store, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="noiselab.ingest.compaction")
    compactor = Compactor(store, CompactionSettings(), clock=lambda: NOW)
    compactor.run_logged_pass()
    compactor.run_logged_pass()
    passes = [r for r in caplog.records if r.getMessage() == "compaction pass"]
    assert [r.levelno for r in passes] == [logging.INFO, logging.DEBUG]
    fields = passes[0].fields  # type: ignore[attr-defined]
    assert (fields["chunks"], fields["readings"], fields["lag_s"]) == (36, 36 * PER_HOUR, 0)
    assert fields["bytes_saved"] > 0
    assert set(fields) >= {"dropped", "pending_hours", "seconds"}


# ------------------------------------------------------------------ the background thread


def test_failing_passes_are_logged_and_counted_and_the_thread_goes_on(store, caplog) -> None:
    """A store outage, then a bug-like error: both logged and counted; the thread keeps
    running, compacts at the next interval, and stops when asked."""
    store.fail_next = [StoreUnavailable("database is locked"), RuntimeError("unexpected")]
    metrics = IngestMetrics()
    compactor = Compactor(store, CompactionSettings(interval_s=0.01), metrics, clock=lambda: NOW)
    compactor.start()
    deadline = time.monotonic() + 20
    while sample(metrics, "noiselab_ingest_compaction_chunks_total") != 36:
        assert time.monotonic() < deadline, "no pass compacted anything"
        time.sleep(0.01)
    compactor.request_stop()
    assert compactor.join(10)
    assert sample(metrics, "noiselab_ingest_compaction_errors_total") == 2
    failed = [r for r in caplog.records if r.getMessage().startswith("compaction pass failed")]
    assert [r.levelno for r in failed] == [logging.WARNING, logging.ERROR]
    assert failed[1].exc_info is not None


def test_only_a_sqlite_store_gets_a_compactor(store) -> None:
    assert isinstance(compactor_for(store, CompactionSettings()), Compactor)
    assert compactor_for(store, CompactionSettings(enabled=False)) is None
    assert compactor_for(object(), CompactionSettings()) is None  # e.g. InfluxDB


def test_the_worker_compacts_by_default_and_can_be_told_not_to(store, tmp_path) -> None:
    mqtt = parse_mqtt_url("mqtt://127.0.0.1:1")
    worker = IngestWorker(IngestSettings(mqtt=mqtt), store, registry=None)  # type: ignore[arg-type]
    assert worker.compactor is not None
    assert worker.compactor.settings.hot_window_s == 48 * HOUR
    assert worker.compactor.settings.interval_s == 600
    off = IngestSettings(mqtt=mqtt, compaction=CompactionSettings(enabled=False))
    assert IngestWorker(off, store, registry=None).compactor is None  # type: ignore[arg-type]


@pytest.mark.process
def test_the_running_worker_compacts_applies_retention_and_quarantines_late_readings(
    tmp_path: Path, broker: MosquittoBroker, prefix: str
) -> None:
    """A worker on a real broker over a store holding 12 hours of 72 to 60 hours ago:
    its background passes compact them and, with a retention of 2.75 days, remove the raw
    readings of the 6 oldest; a late reading into one of those hours is quarantined with the
    store's reason, one into a compacted hour is stored; the compactor stops with the worker."""
    now = hour_of(time.time())
    old = now - 72 * HOUR
    meta = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    meta.sensors.add([Sensor(id="s1", name="s1", lat=None, lon=None, source="road")])
    with SqliteStore(tmp_path / "readings.db") as store:
        fill(store, ["s1"], old, 12, received=now)
        settings = IngestSettings(
            mqtt=parse_mqtt_url(broker.url),
            client_id=f"{prefix}-w",
            topic_prefix=prefix,
            share_group=None,
            flush_interval_s=0.05,
            compaction=CompactionSettings(interval_s=0.05, retention_days=2.75),
        )
        worker = IngestWorker(settings, store, meta)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            assert worker.wait_connected(20)
            deadline = time.monotonic() + 30
            # 6 hours of readings, 7 if an hour began since ``now`` (the worker's clock is real)
            while sample(worker.metrics, "noiselab_ingest_retention_readings_dropped_total") < (
                6 * PER_HOUR
            ):
                assert time.monotonic() < deadline, "the worker never applied the retention"
                time.sleep(0.05)
            assert sample(worker.metrics, "noiselab_ingest_compaction_chunks_total") == 12
            dropped_hour, kept_hour = old + 2 * HOUR + 5, old + 8 * HOUR + 5
            publish_all(
                broker,
                [
                    (f"{prefix}/s1/levels", msgspec.json.encode({"ts": ts, "laeq": 61.5}))
                    for ts in (dropped_hour, kept_hour)
                ],
            )
            deadline = time.monotonic() + 30
            while sample(worker.metrics, "noiselab_ingest_messages_acked_total") != 2:
                assert time.monotonic() < deadline, "the late readings were never acknowledged"
                time.sleep(0.05)
        finally:
            worker.request_stop()
            thread.join(30)
        assert not thread.is_alive()
        assert worker.compactor is not None
        assert worker.compactor.join(0)
        [entry] = meta.quarantine.newest()
        assert "removed by the retention policy" in entry.reason
        assert [r.laeq for r in store.readings("s1", kept_hour, kept_hour + 1)] == [61.5]
        assert store.readings("s1", dropped_hour, dropped_hour + 1) == []
    meta.close()


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hot_window_s": 1800.0}, "hot window 30m (--hot-window, --older-than): must be at"),
        ({"hot_window_s": float("inf")}, "must be at least 1h"),
        ({"interval_s": 0.0}, "--compact-every 0s: must be more than 0"),
        ({"retention_days": 0.0}, "--retention-days 0: must be a positive number of days"),
        (
            {"retention_days": 1.5},
            "--retention-days 1.5 is shorter than the hot window of 2 days",
        ),
        ({"enabled": False, "retention_days": 30.0}, "--retention-days needs --compact"),
        ({"hours_per_call": 0}, "at least 1"),
    ],
)
def test_bad_settings_are_refused_naming_the_value(fields, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CompactionSettings(**fields)


def test_a_retention_equal_to_the_hot_window_is_allowed() -> None:
    assert CompactionSettings(hot_window_s=72 * HOUR, retention_days=3).retention_days == 3


@pytest.mark.parametrize(
    ("seconds", "shown"), [(172_800, "2d"), (7200, "2h"), (5400, "90m"), (90, "90s")]
)
def test_durations_are_shown_in_their_largest_whole_unit(seconds, shown) -> None:
    assert shown_duration(seconds) == shown
