"""The production time-series store: InfluxDB 2 through ``influxdb-client`` (extra ``influx``).

URL ``influxdb://HOST:PORT?org=ORG&bucket=BUCKET``; the token comes from the environment
(``NOISELAB_INFLUX_TOKEN``), never from the URL, so it stays out of logs and process lists.

Writes
    Line protocol from :mod:`noiselab.store.influx_lines` (measurement ``noise``, tags
    ``sensor_id`` and ``source``, fields with the linear energy), posted with the client's
    **synchronous** write API: ``write()`` returns only after InfluxDB answered 204, so the
    ingest acknowledges MQTT messages only after InfluxDB confirmed them. (The client's default
    batching mode only logs a failed batch and its ``flush()`` does not wait, which would lose
    data silently.) Timestamps are the readings' ``ts`` in milliseconds.

Immutable history
    A point written again at the same time would overwrite the stored one, so before writing,
    ``write()`` reads every field of the stored readings in the batch's own time range
    (``stored_query``; for new data this read finds nothing) and, only when some of the batch's
    keys are stored, their spectra (``spectra_query``). Readings equal to the stored ones at the
    store's precision are re-deliveries (``unchanged``, not written again), different ones are
    ``conflicts`` (not written; :mod:`noiselab.store.conflicts`), and only the new readings are
    posted. Two writers offering different readings for one new key at the same moment can
    both pass this check; the later point then wins in InfluxDB (the SQLite store's write lock
    rules that out there).

Roll-up
    Each ``write()`` keeps two exact roll-ups beside the raw points, in this order:

    1. It reads what is stored at the batch's keys (above).
    2. It posts the new raw points, then recomputes every minute they touch from all raw
       readings overlapping it: read back with Flux and
       merged with the batch itself, so the result does not depend on read-after-write
       visibility, with the same numpy code as the SQLite store
       (:mod:`noiselab.store.sqlite_rollup`). The minutes are written as measurement
       ``noise_1m`` (tag ``sensor_id``; fields ``energy``, ``seconds``, ``lafmax``, ``lafmin``
       and ``hist``, the 0.1 dB histogram base64-encoded).
    3. It then recomputes every UTC hour those minutes fall in from all ``noise_1m`` minutes of
       the hour, read back with Flux and merged with the minutes just computed (for the same
       reason), and writes measurement ``noise_1h`` with the same tag and fields: ``energy``
       and ``seconds`` summed in minute order with the same sequential numpy sums (so the same
       minutes always give the same bits), ``lafmax``/``lafmin`` the max/min, ``hist`` the
       merged histogram. The point's time is the hour's start.

    A cell (minute or hour) that no reading overlaps any more cannot be deleted in a write, so
    it is rewritten with zero ``seconds``, zero ``energy`` and an empty ``hist`` (its old
    ``lafmax``/``lafmin`` may linger, as a rewritten point keeps fields it does not name), and
    every reader skips cells with zero seconds. Each step is a synchronous write like the raw
    one, so ``write()`` returns, and the ingest acknowledges, only after InfluxDB confirmed all
    three. Late and re-delivered data therefore keep both roll-ups exact, and a re-delivery
    rewrites the same bits, which a scheduled downsampling task over "the last few minutes"
    would not. Two writers touching the same minute or hour at the same moment can each miss
    the other's points; the next write touching that minute or hour repairs it.
    ``rebuild_hour_rollup`` fills ``noise_1h`` for data written before it existed.

    ``noise_1h`` has been checked here against an in-memory stand-in for InfluxDB
    (``tests/support/influx_fake.py``, which parses this line protocol and answers these Flux
    queries); it runs against a real InfluxDB only in the live suite
    (``tests/store/test_influx_live.py``, when ``NOISELAB_TEST_INFLUX_URL`` is set).

Weather
    Observations of weather stations are measurement ``weather``
    (:mod:`noiselab.store.influx_weather`), immutable like readings.

Reads
    Flux (:mod:`noiselab.store.influx_flux`): raw readings for ``series`` and ``1s`` levels,
    ``noise_1m`` for ``minute_series``, ``noise_1h`` for ``hour_series``; levels coarser than
    ``1s`` read ``noise_1h`` for the UTC hours lying wholly inside a bucket (every ``1h``
    bucket, every ``1d`` bucket in a zone with whole-hour offsets such as Europe/Copenhagen)
    and ``noise_1m`` for the rest (``1m``, ``5m``, ``15m``, and the hours a midnight splits in
    a zone like Asia/Kolkata), which gives the same answer as reading minutes only (LAeq equal
    far below 0.01 dB, exceedance levels identical). Hourly sums of the band energies answer
    ``hourly_bands``, ``noise_activity`` answers ``activity``. Levels use the SQLite store's
    bucket arithmetic (:mod:`noiselab.store.level_buckets`), so both stores answer alike.

Errors
    429 and 5xx answers, timeouts and connection errors raise ``StoreUnavailable`` (the ingest
    retries with backoff, unacknowledged); 400 and 422 on a write raise ``ReadingRejected``
    (the ingest writes the batch's readings one by one and quarantines the ones InfluxDB
    refuses, instead of an endless redelivery loop); other answers (401, 403, 404: a bad token
    or a missing bucket) raise ``StoreError`` naming InfluxDB's message.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.analysis.corrections import RangeCorrection
from noiselab.config import parse_store_url
from noiselab.errors import ConfigError, ReadingRejected
from noiselab.model import Reading, ts_key
from noiselab.store.base import (
    BandLevels,
    LevelPoint,
    SensorActivity,
    Series,
    ValidLevels,
    WriteResult,
)
from noiselab.store.closing import ClosesOnExit
from noiselab.store.conflicts import Conflict, same_reading, split_repeats
from noiselab.store.influx_cells import (
    ACTIVITY_MEASUREMENT,
    HOUR_MEASUREMENT,
    HOUR_MS,
    MINUTE_MEASUREMENT,
    activity_lines,
    band_levels,
    batch_rows,
    cell_lines,
    cell_series,
    hour_cells,
    keyed_cells,
    merged,
    merged_cells,
    picked,
    raw_rows,
    record_number,
    record_span_sums,
    records_buckets,
    split_keys,
    stored_readings,
    time_s,
)
from noiselab.store.influx_errors import translated_errors
from noiselab.store.influx_flux import (
    activity_query,
    bands_query,
    hour_query,
    minute_query,
    raw_query,
    rollup_query,
    spectra_query,
    stored_query,
)
from noiselab.store.influx_lines import (
    MEASUREMENT,
    SPECTRUM_MEASUREMENT,
    readings_payload,
)
from noiselab.store.influx_weather import InfluxWeather
from noiselab.store.level_buckets import (
    Buckets,
    cells_within_width,
    checked_edges,
    parse_every,
    rollup_tiers,
    second_buckets,
    valid_levels,
)
from noiselab.store.level_ranges import RangeCells
from noiselab.store.span_sums import checked_spans, span_runs
from noiselab.store.sqlite_rollup import (
    MINUTE_MS,
    MinuteRollup,
    Rows,
    minute_key,
    minute_keys,
    rollup_minutes,
)

__all__ = [
    "ACTIVITY_MEASUREMENT",
    "HOUR_MEASUREMENT",
    "MAX_DURATION_S",
    "MINUTE_MEASUREMENT",
    "TOKEN_ENV",
    "InfluxStore",
    "open_influx_store",
]

TOKEN_ENV = "NOISELAB_INFLUX_TOKEN"  # noqa: S105 - the name of the variable, not a secret
MAX_DURATION_S = 3600.0
"""The longest reading the contract allows: how far before a minute a reading overlapping it
may start, so how far back the roll-up reads."""

REBUILD_CHUNK_HOURS = 168
"""Hours of minutes ``rebuild_hour_rollup`` reads per query (a week: 10,080 minutes)."""

SourceOf = Callable[[str], str | None]


def open_influx_store(url: str, source_of: SourceOf | None = None) -> InfluxStore:
    """An :class:`InfluxStore` for an ``influxdb://`` URL, the token from ``TOKEN_ENV``."""
    parsed = parse_store_url(url)
    if parsed.kind != "influxdb" or parsed.org is None or parsed.bucket is None:
        raise ConfigError(f"store URL {url!r}: not an influxdb:// URL")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ConfigError(f"an InfluxDB store needs its API token in {TOKEN_ENV}")
    return InfluxStore(
        url=f"http://{parsed.host}:{parsed.port}",
        token=token,
        org=parsed.org,
        bucket=parsed.bucket,
        source_of=source_of,
    )


class InfluxStore(InfluxWeather, ClosesOnExit):
    """Readings in an InfluxDB 2 bucket, with exact per-minute and hourly roll-ups beside
    them, and weather observations (:class:`~noiselab.store.influx_weather.InfluxWeather`)."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        org: str,
        bucket: str,
        source_of: SourceOf | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        """Connect lazily to ``url`` (``http(s)://host:port``). ``source_of(sensor_id)`` gives
        the ``source`` tag of each sensor (from the registry); unknown sensors get
        ``unknown``."""
        self._org, self._bucket = org, bucket
        self._source_of: SourceOf = source_of or (lambda _sensor: None)
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._query_api = self._client.query_api()

    # -- writes

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        """Write the new ``readings`` and the roll-ups of the minutes and hours they touch;
        durable in InfluxDB when it returns. Re-deliveries are skipped and conflicting readings
        returned, not written (see the module docstring, also for errors)."""
        if not readings:
            return WriteResult(0, 0)
        firsts, repeats = split_repeats(readings)
        sensors = sorted({reading.sensor_id for reading in firsts})
        stored = self._stored(firsts, sensors)
        new: list[Reading] = []
        conflicts: list[Conflict] = []
        unchanged = 0
        kept: list[Reading] = []
        for reading in firsts:
            twin = stored.get((reading.sensor_id, ts_key(reading.ts)))
            if twin is None:
                new.append(reading)
                kept.append(reading)
            elif same_reading(twin, reading):
                unchanged += 1
                kept.append(twin)
            else:
                conflicts.append(Conflict(reading, twin))
                kept.append(twin)
        for j, i in repeats:
            if same_reading(kept[i], readings[j]):
                unchanged += 1
            else:
                conflicts.append(Conflict(readings[j], kept[i]))
        if new:
            self._write_new(new, sensors, received_at)
        return WriteResult(inserted=len(new), unchanged=unchanged, conflicts=tuple(conflicts))

    def _write_new(self, readings: list[Reading], sensors: list[str], received_at: float) -> None:
        try:
            body = readings_payload(readings, self._source_of)
        except ValueError as exc:
            raise ReadingRejected(str(exc)) from exc
        self._post(body + b"\n" + activity_lines(readings, received_at), "write readings")
        self._write_rollup(batch_rows(readings, sensors), sensors)

    def _post(self, body: bytes, action: str) -> None:
        with translated_errors(action, write=True):
            self._write_api.write(
                bucket=self._bucket,
                org=self._org,
                record=body,
                # The client types the precision as its enum class, whose members are str.
                write_precision=WritePrecision.MS,  # type: ignore[arg-type]
            )

    def _stored(
        self, readings: list[Reading], sensors: list[str]
    ) -> dict[tuple[str, int], Reading]:
        """The stored readings at the keys of ``readings``, read before the write: every field,
        and the spectra when any key is stored."""
        keys = {(r.sensor_id, ts_key(r.ts)) for r in readings}
        first = min(key[1] for key in keys)
        start, stop = first / 1000.0, (max(key[1] for key in keys) + 1) / 1000.0
        query = stored_query(self._bucket, MEASUREMENT, sensors, start, stop)
        records = self._query(query, "read the stored readings at a write's keys")
        hits = [r for r in records if (str(r.get("sensor_id")), ts_key(time_s(r))) in keys]
        if not hits:
            return {}
        spectra = self._query(
            spectra_query(
                self._bucket,
                SPECTRUM_MEASUREMENT,
                sorted({str(r["sensor_id"]) for r in hits}),
                start,
                stop,
            ),
            "read the stored spectra at a write's keys",
        )
        return stored_readings(hits, spectra)

    def _write_rollup(self, batch: Rows, sensors: list[str]) -> None:
        """``noise_1m`` for every minute the new readings touch, from all raw readings
        overlapping those minutes (read back after the raw write, merged with the batch);
        then ``noise_1h``."""
        keys = minute_keys(batch.code, batch.ts_ms, batch.end_ms)
        minutes = split_keys(keys)[1]
        start = int(minutes.min()) * 60.0 - MAX_DURATION_S
        stop = (int(minutes.max()) + 1) * 60.0
        query = raw_query(self._bucket, MEASUREMENT, sensors, start, stop)
        stored = raw_rows(self._query(query, "read readings back for the roll-up"), sensors)
        rollup = rollup_minutes(merged(stored, batch), keys)
        self._post(cell_lines(MINUTE_MEASUREMENT, rollup, sensors, MINUTE_MS), "write the roll-up")
        self._write_hours(rollup, sensors)

    def _write_hours(self, rollup: MinuteRollup, sensors: list[str]) -> None:
        """``noise_1h`` for every hour of the minutes in ``rollup``, from all ``noise_1m`` minutes
        of the hour: read back with Flux and merged with ``rollup`` (which wins), so the result
        does not depend on seeing the minutes just written."""
        code, minute = split_keys(rollup.keys)
        hour_keys = np.unique(minute_key(code, minute // 60))
        hours = split_keys(hour_keys)[1]
        query = rollup_query(
            self._bucket,
            MINUTE_MEASUREMENT,
            sensors,
            int(hours.min()) * 3600.0,
            (int(hours.max()) + 1) * 3600.0,
        )
        stored = self._query(query, "read minutes back for the hourly roll-up")
        minutes = merged_cells(rollup, keyed_cells(stored, sensors, MINUTE_MS))
        hourly = hour_cells(minutes, hour_keys)
        self._post(
            cell_lines(HOUR_MEASUREMENT, hourly, sensors, HOUR_MS), "write the hourly roll-up"
        )

    def rebuild_hour_rollup(self, sensor_id: str, start: datetime, end: datetime) -> int:
        """Recompute ``noise_1h`` of one sensor for the UTC hours starting in ``[start, end)``
        from its ``noise_1m`` minutes, as ``write`` keeps it; for data written before the
        hourly roll-up existed (``levels`` of whole hours and ``hour_series`` read only
        ``noise_1h``). Idempotent; reads ``REBUILD_CHUNK_HOURS`` hours per query. Returns the
        number of hours written (hours without any minute point are left alone)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("rebuild_hour_rollup needs aware datetimes")
        first = math.ceil(start.timestamp() / 3600.0)
        last = math.ceil(end.timestamp() / 3600.0)
        written = 0
        for chunk in range(first, last, REBUILD_CHUNK_HOURS):
            stop = min(last, chunk + REBUILD_CHUNK_HOURS)
            query = rollup_query(
                self._bucket, MINUTE_MEASUREMENT, [sensor_id], chunk * 3600.0, stop * 3600.0
            )
            records = self._query(query, "read minutes to rebuild hours")
            minutes = keyed_cells(records, [sensor_id], MINUTE_MS)
            if minutes.keys.size == 0:
                continue
            code, minute = split_keys(minutes.keys)
            hour_keys = np.unique(minute_key(code, minute // 60))
            hourly = hour_cells(minutes, hour_keys)
            lines = cell_lines(HOUR_MEASUREMENT, hourly, [sensor_id], HOUR_MS)
            self._post(lines, "write the hourly roll-up")
            written += int(hour_keys.size)
        return written

    # -- reads

    def levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every | str,
        zone: ZoneInfo = DEFAULT_ZONE,
    ) -> list[LevelPoint]:
        """Energetic levels of one sensor in ``every`` buckets covering ``[start, end)``, with
        the SQLite store's arithmetic (:mod:`noiselab.store.level_buckets`): ``1s`` from the raw
        readings; coarser buckets from ``noise_1h`` for the UTC hours lying wholly inside a
        bucket (all of ``1h``, and ``1d`` in a zone with whole-hour offsets) and from
        ``noise_1m`` for the other minutes (all of ``1m``, ``5m`` and ``15m``)."""
        return self.valid_levels(sensor_id, start, end, every, zone).points

    def valid_levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every | str,
        zone: ZoneInfo = DEFAULT_ZONE,
        *,
        ranges: Sequence[RangeCorrection] = (),
    ) -> ValidLevels:
        """``levels`` with ``ranges`` applied (``ReadingStore.valid_levels``): the hours an
        edge cuts are read from ``noise_1m``."""
        step = parse_every(every)
        edges = checked_edges(start, end, step, zone)
        cells = RangeCells(ranges, edges.size - 1) if ranges else None
        if step is Every.S1:
            first = float(edges[0]) - MAX_DURATION_S
            query = raw_query(self._bucket, MEASUREMENT, [sensor_id], first, float(edges[-1]))
            rows = raw_rows(self._query(query, "read readings"), [sensor_id])
            buckets = second_buckets(edges, rows, cells)
        else:
            buckets = self._rollup_buckets(sensor_id, edges, cells)
        return valid_levels(buckets, edges, cells)

    def _rollup_buckets(
        self, sensor_id: str, edges: FloatArray, cells: RangeCells | None
    ) -> Buckets:
        """Buckets from the whole hours inside them (``noise_1h``) and the other minutes
        (``noise_1m``), the cells summed in time order."""
        tiers = rollup_tiers(edges, cells)
        records: list[dict[str, Any]] = []
        if tiers.hour_span is not None:
            query = hour_query(self._bucket, HOUR_MEASUREMENT, sensor_id, *tiers.hour_span)
            records += picked(self._query(query, "read hours"), tiers.wanted_hours)
        runs = np.array(tiers.minute_runs, np.float64).reshape(-1, 2)
        for lo, hi in span_runs(runs[:, 0], runs[:, 1], gap_s=3600.0):
            query = minute_query(self._bucket, MINUTE_MEASUREMENT, sensor_id, lo, hi)
            records += picked(self._query(query, "read minutes"), tiers.wanted_minutes)
        return records_buckets(records, tiers.grid, cells)

    def hourly_bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly energetic band levels of the readings with a spectrum, ``start <= ts < end``:
        per band ``10·log10(Σ e_band / Σ duration)`` over each UTC hour (every reading of a
        sensor is expected to carry the same bands, as the contract's third-octave set)."""
        query = bands_query(self._bucket, SPECTRUM_MEASUREMENT, sensor_id, start, end)
        return band_levels(self._query(query, "read spectra"))

    def series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The raw readings of one sensor with ``start <= ts < end``."""
        query = raw_query(self._bucket, MEASUREMENT, [sensor_id], start, end)
        rows = raw_rows(self._query(query, "read a series"), [sensor_id])
        return Series(
            ts=rows.ts_ms / 1000.0,
            laeq=rows.laeq,
            duration=(rows.end_ms - rows.ts_ms) / 1000.0,
            lafmax=rows.lafmax,
        )

    def minute_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The per-minute roll-up of one sensor for the minutes starting in ``[start, end)``
        (a minute with more measured seconds than 60, from overlapping readings, is split into
        equal rows as the SQLite store does)."""
        query = minute_query(self._bucket, MINUTE_MEASUREMENT, sensor_id, start, end)
        return cells_within_width(cell_series(self._query(query, "read minutes")), 60.0)

    def minute_sums(self, sensor_id: str, starts: FloatArray, ends: FloatArray) -> Series:
        """The per-minute roll-up summed over spans (``ReadingStore.minute_sums``): one
        ``noise_1m`` query per run of spans less than an hour apart, summed here."""
        spans = checked_spans(starts, ends)
        records: list[dict[str, Any]] = []
        for lo, hi in span_runs(*spans, gap_s=3600.0):
            query = minute_query(self._bucket, MINUTE_MEASUREMENT, sensor_id, lo, hi)
            records += self._query(query, "read minutes")
        return record_span_sums(records, spans).series(*spans)

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The hourly roll-up of one sensor for the UTC hours starting in ``[start, end)``, from
        ``noise_1h``; like ``minute_series``, no row reaches past its hour."""
        query = hour_query(self._bucket, HOUR_MEASUREMENT, sensor_id, start, end)
        return cells_within_width(cell_series(self._query(query, "read hours")), 3600.0)

    def activity(self) -> list[SensorActivity]:
        """The end of each sensor's latest reading and when its data was last written."""
        latest: dict[str, float] = {}
        received: dict[str, float] = {}
        for record in self._query(activity_query(self._bucket, ACTIVITY_MEASUREMENT), "activity"):
            sensor_id = str(record["sensor_id"])
            if record.get("result") == "latest_ts":
                latest[sensor_id] = record_number(record, "_value")
            else:
                received[sensor_id] = time_s(record)
        return [
            SensorActivity(sid, latest[sid], received.get(sid, latest[sid]))
            for sid in sorted(latest)
        ]

    def close(self) -> None:
        """Close the HTTP connections."""
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]

    def _query(self, flux: str, action: str) -> list[dict[str, Any]]:
        with translated_errors(action, write=False):
            tables = self._query_api.query(flux, org=self._org)
        return [dict(record.values) for table in tables for record in table.records]
