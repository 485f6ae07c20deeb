"""The production time-series store: InfluxDB 2 through ``influxdb-client`` (extra ``influx``).

URL ``influxdb://HOST:PORT?org=ORG&bucket=BUCKET``; the token comes from the environment
(``NOISELAB_INFLUX_TOKEN``), never from the URL, so it stays out of logs and process lists.

Writes
    Line protocol from :mod:`noiselab.store.influx_lines` (measurement ``noise``, tags
    ``sensor_id`` and ``source``, fields with the linear energy), posted with the client's
    **synchronous** write API: ``write()`` returns only after InfluxDB answered 204, so the
    ingest acknowledges MQTT messages only after InfluxDB confirmed them. (The client's default
    batching mode only logs a failed batch and its ``flush()`` does not wait, which would lose
    data silently.) Timestamps are the readings' ``ts`` in milliseconds, so a re-delivered
    reading overwrites its own point: writes are idempotent. InfluxDB cannot say whether a point
    was new, so every reading counts as ``inserted``.

Roll-up
    Each ``write()`` keeps two exact roll-ups beside the raw points, in this order:

    1. Before the raw write it reads the stored readings at the batch's own timestamps: a
       re-delivered reading with another duration overwrites the only record of its old
       interval, whose minutes must be recomputed too (for new data this read finds nothing).
    2. It posts the raw points, then recomputes every minute the batch touches (under the new
       and the replaced intervals) from all raw readings overlapping it: read back with Flux and
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

import base64
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.config import parse_store_url
from noiselab.errors import ConfigError, ReadingRejected, StoreError, StoreUnavailable
from noiselab.model import Reading, ts_key
from noiselab.store.base import BandLevels, LevelPoint, SensorActivity, Series, WriteResult
from noiselab.store.closing import ClosesOnExit
from noiselab.store.influx_flux import (
    activity_query,
    bands_query,
    hour_query,
    minute_query,
    raw_query,
    rollup_query,
)
from noiselab.store.influx_lines import (
    MEASUREMENT,
    SPECTRUM_MEASUREMENT,
    escape_key,
    format_float,
    readings_payload,
)
from noiselab.store.level_buckets import (
    Buckets,
    cells_within_width,
    checked_edges,
    parse_every,
    rollup_buckets,
    rollup_tiers,
    second_buckets,
)
from noiselab.store.sqlite_rollup import (
    HIST_DTYPE,
    MINUTE_MS,
    MinuteRollup,
    Rows,
    decode_hist,
    duration_ms,
    merge_hists,
    minute_key,
    minute_keys,
    rollup_minutes,
    sum_by,
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
MINUTE_MEASUREMENT = "noise_1m"
HOUR_MEASUREMENT = "noise_1h"
HOUR_MS = 3_600_000
ACTIVITY_MEASUREMENT = "noise_activity"
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


class InfluxStore(ClosesOnExit):
    """Readings in an InfluxDB 2 bucket, with exact per-minute and hourly roll-ups beside
    them."""

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
        """Write ``readings`` and the roll-ups of the minutes and hours they touch; durable in
        InfluxDB when it returns. See the module docstring for errors."""
        if not readings:
            return WriteResult(0, 0, 0)
        try:
            body = readings_payload(readings, self._source_of)
        except ValueError as exc:
            raise ReadingRejected(str(exc)) from exc
        sensors = sorted({reading.sensor_id for reading in readings})
        batch = _batch_rows(readings, sensors)
        replaced = self._replaced(batch, sensors)
        self._post(body + b"\n" + _activity_lines(readings, received_at), "write readings")
        self._write_rollup(batch, replaced, sensors)
        return WriteResult(inserted=len(readings), replaced=0, unchanged=0)

    def _post(self, body: bytes, action: str) -> None:
        with _translated(action, write=True):
            self._write_api.write(
                bucket=self._bucket,
                org=self._org,
                record=body,
                # The client types the precision as its enum class, whose members are str.
                write_precision=WritePrecision.MS,  # type: ignore[arg-type]
            )

    def _replaced(self, batch: Rows, sensors: list[str]) -> Rows:
        """The stored readings the batch is about to overwrite with another interval, read
        before the write (afterwards InfluxDB holds only the new version): the minutes of their
        old interval must be recomputed too. For new data this range holds nothing."""
        start, stop = int(batch.ts_ms.min()) / 1000.0, (int(batch.ts_ms.max()) + 1) / 1000.0
        query = raw_query(self._bucket, MEASUREMENT, sensors, start, stop)
        stored = _raw_rows(self._query(query, "read the readings a write replaces"), sensors)
        position = {key: i for i, key in enumerate(_row_keys(batch).tolist())}
        changed = [
            i
            for i, key in enumerate(_row_keys(stored).tolist())
            if key in position and stored.end_ms[i] != batch.end_ms[position[key]]
        ]
        return stored.take(np.array(changed, np.intp))

    def _write_rollup(self, batch: Rows, replaced: Rows, sensors: list[str]) -> None:
        """``noise_1m`` for every minute the batch touches, under the readings' new intervals and
        the old intervals of the readings they ``replaced`` (a re-delivery with a shorter
        duration empties minutes), from all raw readings overlapping those minutes (read back
        after the raw write, merged with the batch); then ``noise_1h``."""
        keys = np.union1d(
            minute_keys(batch.code, batch.ts_ms, batch.end_ms),
            minute_keys(replaced.code, replaced.ts_ms, replaced.end_ms),
        )
        minutes = _split_keys(keys)[1]
        start = int(minutes.min()) * 60.0 - MAX_DURATION_S
        stop = (int(minutes.max()) + 1) * 60.0
        query = raw_query(self._bucket, MEASUREMENT, sensors, start, stop)
        stored = _raw_rows(self._query(query, "read readings back for the roll-up"), sensors)
        rollup = rollup_minutes(_merged(stored, batch), keys)
        self._post(_cell_lines(MINUTE_MEASUREMENT, rollup, sensors, MINUTE_MS), "write the roll-up")
        self._write_hours(rollup, sensors)

    def _write_hours(self, rollup: MinuteRollup, sensors: list[str]) -> None:
        """``noise_1h`` for every hour of the minutes in ``rollup``, from all ``noise_1m`` minutes
        of the hour: read back with Flux and merged with ``rollup`` (which wins), so the result
        does not depend on seeing the minutes just written."""
        code, minute = _split_keys(rollup.keys)
        hour_keys = np.unique(minute_key(code, minute // 60))
        hours = _split_keys(hour_keys)[1]
        query = rollup_query(
            self._bucket,
            MINUTE_MEASUREMENT,
            sensors,
            int(hours.min()) * 3600.0,
            (int(hours.max()) + 1) * 3600.0,
        )
        stored = self._query(query, "read minutes back for the hourly roll-up")
        minutes = _merged_cells(rollup, _keyed_cells(stored, sensors, MINUTE_MS))
        hourly = _hour_cells(minutes, hour_keys)
        self._post(
            _cell_lines(HOUR_MEASUREMENT, hourly, sensors, HOUR_MS), "write the hourly roll-up"
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
            minutes = _keyed_cells(records, [sensor_id], MINUTE_MS)
            if minutes.keys.size == 0:
                continue
            code, minute = _split_keys(minutes.keys)
            hour_keys = np.unique(minute_key(code, minute // 60))
            hourly = _hour_cells(minutes, hour_keys)
            lines = _cell_lines(HOUR_MEASUREMENT, hourly, [sensor_id], HOUR_MS)
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
        step = parse_every(every)
        edges = checked_edges(start, end, step, zone)
        if step is Every.S1:
            buckets = self._second_buckets(sensor_id, edges)
        else:
            buckets = self._rollup_buckets(sensor_id, edges)
        return buckets.points(edges)

    def _second_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        start = float(edges[0]) - MAX_DURATION_S
        query = raw_query(self._bucket, MEASUREMENT, [sensor_id], start, float(edges[-1]))
        rows = _raw_rows(self._query(query, "read readings"), [sensor_id])
        return second_buckets(edges, rows)

    def _rollup_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        """Buckets from the whole hours inside them (``noise_1h``) and the other minutes
        (``noise_1m``), the cells summed in time order."""
        tiers = rollup_tiers(edges)
        records: list[dict[str, Any]] = []
        if tiers.hour_span is not None:
            query = hour_query(self._bucket, HOUR_MEASUREMENT, sensor_id, *tiers.hour_span)
            records += _picked(self._query(query, "read hours"), tiers.wanted_hours)
        if tiers.minute_span is not None:
            query = minute_query(self._bucket, MINUTE_MEASUREMENT, sensor_id, *tiers.minute_span)
            records += _picked(self._query(query, "read minutes"), tiers.wanted_minutes)
        records = [r for r in records if _number(r, "seconds", 0.0) > 0.0]
        records.sort(key=_time_s)
        return rollup_buckets(
            tiers.grid,
            start_s=np.array([_time_s(r) for r in records], np.float64),
            energies=np.array([_number(r, "energy") for r in records], np.float64),
            seconds=np.array([_number(r, "seconds") for r in records], np.float64),
            lafmax=np.array([_number(r, "lafmax") for r in records], np.float64),
            hists=[_hist(r) for r in records],
        )

    def hourly_bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly energetic band levels of the readings with a spectrum, ``start <= ts < end``:
        per band ``10·log10(Σ e_band / Σ duration)`` over each UTC hour (every reading of a
        sensor is expected to carry the same bands, as the contract's third-octave set)."""
        query = bands_query(self._bucket, SPECTRUM_MEASUREMENT, sensor_id, start, end)
        records = [r for r in self._query(query, "read spectra") if _number(r, "duration") > 0]
        if not records:
            empty = np.zeros(0)
            return BandLevels(empty, empty, np.zeros((0, 0)), empty)
        fields = sorted(
            (name for name in records[0] if name.startswith("e_")), key=lambda n: float(n[2:])
        )
        seconds = np.array([_number(r, "duration") for r in records], np.float64)
        energies = np.array([[_number(r, name) for name in fields] for r in records])
        return BandLevels(
            t=np.array([_time_s(r) for r in records], np.float64),
            bands_hz=np.array([float(name[2:]) for name in fields], np.float64),
            lzeq=10.0 * np.log10(energies / seconds[:, None]),
            seconds=seconds,
        )

    def series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The raw readings of one sensor with ``start <= ts < end``."""
        query = raw_query(self._bucket, MEASUREMENT, [sensor_id], start, end)
        rows = _raw_rows(self._query(query, "read a series"), [sensor_id])
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
        return cells_within_width(_cell_series(self._query(query, "read minutes")), 60.0)

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The hourly roll-up of one sensor for the UTC hours starting in ``[start, end)``, from
        ``noise_1h``; like ``minute_series``, no row reaches past its hour."""
        query = hour_query(self._bucket, HOUR_MEASUREMENT, sensor_id, start, end)
        return cells_within_width(_cell_series(self._query(query, "read hours")), 3600.0)

    def activity(self) -> list[SensorActivity]:
        """The end of each sensor's latest reading and when its data was last written."""
        latest: dict[str, float] = {}
        received: dict[str, float] = {}
        for record in self._query(activity_query(self._bucket, ACTIVITY_MEASUREMENT), "activity"):
            sensor_id = str(record["sensor_id"])
            if record.get("result") == "latest_ts":
                latest[sensor_id] = _number(record, "_value")
            else:
                received[sensor_id] = _time_s(record)
        return [
            SensorActivity(sid, latest[sid], received.get(sid, latest[sid]))
            for sid in sorted(latest)
        ]

    def close(self) -> None:
        """Close the HTTP connections."""
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]

    def _query(self, flux: str, action: str) -> list[dict[str, Any]]:
        with _translated(action, write=False):
            tables = self._query_api.query(flux, org=self._org)
        return [dict(record.values) for table in tables for record in table.records]


# --------------------------------------------------------------------------- helpers


@contextmanager
def _translated(action: str, *, write: bool) -> Iterator[None]:
    """InfluxDB and transport errors as ``StoreError`` subclasses (see the module docstring)."""
    try:
        yield
    except ApiException as exc:
        status = int(exc.status or 0)
        detail = f"InfluxDB: cannot {action}: HTTP {status} {_message(exc)}"
        if status == 429 or status >= 500 or status == 0:
            raise StoreUnavailable(detail) from exc
        if write and status in (400, 422):
            raise ReadingRejected(detail) from exc
        raise StoreError(detail) from exc
    except (HTTPError, OSError) as exc:
        raise StoreUnavailable(f"InfluxDB: cannot {action}: {exc}") from exc


def _message(exc: ApiException) -> str:
    """InfluxDB's ``{"code": ..., "message": ...}`` error body, or the reason phrase."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("message"):
        return f"({parsed.get('code', 'error')}): {parsed['message']}"
    return str(exc.reason or body or "")


def _activity_lines(readings: Sequence[Reading], received_at: float) -> bytes:
    """One ``noise_activity`` point per sensor: the end of its latest reading in the batch,
    at the receive time."""
    ends: dict[str, float] = {}
    for reading in readings:
        end = reading.ts + reading.duration
        ends[reading.sensor_id] = max(end, ends.get(reading.sensor_id, end))
    at = ts_key(received_at)
    return "\n".join(
        f"{ACTIVITY_MEASUREMENT},sensor_id={escape_key(sid)} last_ts={format_float(end)} {at}"
        for sid, end in sorted(ends.items())
    ).encode()


def _batch_rows(readings: Sequence[Reading], sensors: list[str]) -> Rows:
    """The batch as roll-up rows sorted by (sensor code, ts), the last of repeated keys kept."""
    code_of = {sid: i for i, sid in enumerate(sensors)}
    latest: dict[tuple[int, int], Reading] = {}
    for reading in readings:
        latest[(code_of[reading.sensor_id], ts_key(reading.ts))] = reading
    order = sorted(latest)
    chosen = [latest[key] for key in order]
    ts_ms = np.array([key[1] for key in order], np.int64)
    return Rows(
        code=np.array([key[0] for key in order], np.int64),
        ts_ms=ts_ms,
        end_ms=ts_ms + duration_ms([r.duration for r in chosen]),
        laeq=np.array([r.laeq for r in chosen], np.float64),
        lafmax=np.array([math.nan if r.lafmax is None else r.lafmax for r in chosen]),
        lafmin=np.array([math.nan if r.lafmin is None else r.lafmin for r in chosen]),
    )


def _raw_rows(records: list[dict[str, Any]], sensors: list[str]) -> Rows:
    """Query rows of ``raw_query`` as roll-up rows sorted by (sensor code, ts)."""
    code_of = {sid: i for i, sid in enumerate(sensors)}
    picked = [r for r in records if r.get("sensor_id") in code_of and r.get("laeq") is not None]
    code = np.array([code_of[str(r["sensor_id"])] for r in picked], np.int64)
    ts_ms = np.array([round(_time_s(r) * 1000.0) for r in picked], np.int64)
    order = np.lexsort((ts_ms, code))
    return Rows(
        code=code[order],
        ts_ms=ts_ms[order],
        end_ms=(ts_ms + duration_ms([_number(r, "duration", 1.0) for r in picked]))[order],
        laeq=np.array([_number(r, "laeq") for r in picked], np.float64)[order],
        lafmax=np.array([_number(r, "lafmax") for r in picked], np.float64)[order],
        lafmin=np.array([_number(r, "lafmin") for r in picked], np.float64)[order],
    )


def _merged(stored: Rows, batch: Rows) -> Rows:
    """``stored`` and ``batch`` rows, sorted, the batch winning on equal (code, ts)."""
    code = np.concatenate([batch.code, stored.code])
    ts_ms = np.concatenate([batch.ts_ms, stored.ts_ms])
    _, first = np.unique(np.stack([code, ts_ms]), axis=1, return_index=True)
    keep = np.sort(first)  # batch rows come first, so np.unique's first index prefers them
    order = keep[np.lexsort((ts_ms[keep], code[keep]))]
    return Rows(
        code=code[order],
        ts_ms=ts_ms[order],
        end_ms=np.concatenate([batch.end_ms, stored.end_ms])[order],
        laeq=np.concatenate([batch.laeq, stored.laeq])[order],
        lafmax=np.concatenate([batch.lafmax, stored.lafmax])[order],
        lafmin=np.concatenate([batch.lafmin, stored.lafmin])[order],
    )


def _row_keys(rows: Rows) -> IntArray:
    """One integer per ``(code, ts_ms)`` of ``rows`` (ts_ms below 2**43: until year 2248)."""
    return rows.code * (1 << 44) + rows.ts_ms


def _split_keys(keys: IntArray) -> tuple[IntArray, IntArray]:
    """``(code, number)`` arrays of roll-up keys ``code << 32 | number`` (``minute_key``), where
    the number is a Unix minute or hour."""
    code = keys >> 32
    return code, keys - minute_key(code, np.zeros_like(code))


def _picked(
    records: list[dict[str, Any]], wanted: Callable[[FloatArray], npt.NDArray[np.bool_]]
) -> list[dict[str, Any]]:
    """The ``records`` whose start (Unix s) ``wanted`` accepts."""
    mask = wanted(np.array([_time_s(r) for r in records], np.float64)).tolist()
    return [r for r, keep in zip(records, mask, strict=True) if keep]


def _hist(record: dict[str, Any]) -> bytes:
    return base64.b64decode(str(record.get("hist") or ""))


def _keyed_cells(records: list[dict[str, Any]], sensors: list[str], width_ms: int) -> MinuteRollup:
    """Roll-up cells read back (``rollup_query`` rows of ``sensors``) as a ``MinuteRollup``
    keyed ``code << 32 | cell number``, sorted by key."""
    code_of = {sid: i for i, sid in enumerate(sensors)}
    picked = [r for r in records if r.get("sensor_id") in code_of]
    code = np.array([code_of[str(r["sensor_id"])] for r in picked], np.int64)
    number = np.array([round(_time_s(r) * 1000.0) // width_ms for r in picked], np.int64)
    keys, first = np.unique(minute_key(code, number), return_index=True)
    chosen = [picked[i] for i in first.tolist()]
    return MinuteRollup(
        keys=keys,
        energy=np.array([_number(r, "energy", 0.0) for r in chosen], np.float64),
        seconds=np.array([_number(r, "seconds", 0.0) for r in chosen], np.float64),
        lafmax=np.array([_number(r, "lafmax") for r in chosen], np.float64),
        lafmin=np.array([_number(r, "lafmin") for r in chosen], np.float64),
        hists=[_hist(r) for r in chosen],
    )


def _merged_cells(fresh: MinuteRollup, stored: MinuteRollup) -> MinuteRollup:
    """``fresh`` and ``stored`` cells sorted by key, ``fresh`` winning on equal keys."""
    keys, first = np.unique(np.concatenate([fresh.keys, stored.keys]), return_index=True)
    hists = fresh.hists + stored.hists
    return MinuteRollup(
        keys=keys,
        energy=np.concatenate([fresh.energy, stored.energy])[first],
        seconds=np.concatenate([fresh.seconds, stored.seconds])[first],
        lafmax=np.concatenate([fresh.lafmax, stored.lafmax])[first],
        lafmin=np.concatenate([fresh.lafmin, stored.lafmin])[first],
        hists=[hists[i] for i in first.tolist()],
    )


def _hour_cells(minutes: MinuteRollup, hour_keys: IntArray) -> MinuteRollup:
    """The hours ``hour_keys`` (sorted unique ``code << 32 | Unix hour``) from ``minutes``
    (sorted by key; minutes of other hours are ignored): energy and seconds summed in minute
    order with ``sum_by``, LAFmax/LAFmin the max/min, histograms merged. The same minutes always
    give the same bits. An hour without measured minutes gets zero seconds (emptied)."""
    n = hour_keys.size
    live = np.flatnonzero(minutes.seconds > 0.0)
    code, minute = _split_keys(minutes.keys[live])
    wanted = minute_key(code, minute // 60)
    slot = np.searchsorted(hour_keys, wanted)
    inside = slot < n
    inside[inside] = hour_keys[slot[inside]] == wanted[inside]
    rows, slot = live[inside], slot[inside]
    hists = [minutes.hists[i] for i in rows.tolist()]
    bins, ms = decode_hist(b"".join(hists))
    counts = np.fromiter(map(len, hists), np.int64, len(hists)) // HIST_DTYPE.itemsize
    group, bins, ms = merge_hists(np.repeat(slot, counts), bins, ms, n)
    lafmax, lafmin = np.full(n, np.nan), np.full(n, np.nan)
    np.fmax.at(lafmax, slot, minutes.lafmax[rows])
    np.fmin.at(lafmin, slot, minutes.lafmin[rows])
    return MinuteRollup(
        keys=hour_keys,
        energy=sum_by(slot, minutes.energy[rows], n),
        seconds=sum_by(slot, minutes.seconds[rows], n),
        lafmax=lafmax,
        lafmin=lafmin,
        hists=_encoded_hists(n, group, bins, ms),
    )


def _encoded_hists(n: int, group: IntArray, bins: IntArray, ms: IntArray) -> list[bytes]:
    """Histogram records (sqlite_rollup's format) of groups ``0..n-1`` from ``merge_hists``."""
    records = np.empty(bins.size, dtype=HIST_DTYPE)
    records["bin"] = bins
    records["ms"] = ms
    data = records.tobytes()
    bounds = (np.searchsorted(group, np.arange(n + 1)) * HIST_DTYPE.itemsize).tolist()
    return [data[a:b] for a, b in pairwise(bounds)]


def _cell_lines(measurement: str, cells: MinuteRollup, sensors: list[str], width_ms: int) -> bytes:
    """The points of roll-up cells (``noise_1m`` minutes, ``noise_1h`` hours). A cell no reading
    overlaps any more gets zero seconds, zero energy and an empty histogram: InfluxDB cannot
    delete a point in a write, so readers skip such cells (see the module docstring)."""
    lines = []
    code, number = _split_keys(cells.keys)
    for i, (c, cell) in enumerate(zip(code.tolist(), number.tolist(), strict=True)):
        fields = [
            f"energy={format_float(float(cells.energy[i]))}",
            f'hist="{base64.b64encode(cells.hists[i]).decode()}"',
        ]
        for name, values in (("lafmax", cells.lafmax), ("lafmin", cells.lafmin)):
            if not math.isnan(values[i]):
                fields.append(f"{name}={format_float(float(values[i]))}")
        fields.append(f"seconds={format_float(float(cells.seconds[i]))}")
        tags = f"sensor_id={escape_key(sensors[c])}"
        lines.append(f"{measurement},{tags} {','.join(fields)} {cell * width_ms}")
    return "\n".join(lines).encode()


def _cell_series(records: list[dict[str, Any]]) -> Series:
    """``rollup_query`` rows as a ``Series``, the zero-second (emptied) cells left out."""
    live = [r for r in records if _number(r, "seconds", 0.0) > 0.0]
    seconds = np.array([_number(r, "seconds") for r in live], np.float64)
    energy = np.array([_number(r, "energy") for r in live], np.float64)
    return Series(
        ts=np.array([_time_s(r) for r in live], np.float64),
        laeq=10.0 * np.log10(energy / seconds) if live else np.zeros(0),
        duration=seconds,
        lafmax=np.array([_number(r, "lafmax") for r in live], np.float64),
    )


def _number(record: dict[str, Any], name: str, default: float = math.nan) -> float:
    value = record.get(name)
    return default if value is None else float(value)


def _time_s(record: dict[str, Any]) -> float:
    """A record's ``_time`` in Unix seconds (the client parses it into an aware datetime)."""
    value = record["_time"]
    if isinstance(value, datetime):
        return value.astimezone(UTC).timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
