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
    After the raw write, the adapter recomputes every minute the batch touched, from all raw
    readings overlapping it (read back with Flux, merged with the batch itself so the result
    does not depend on read-after-write visibility), with the same numpy code as the SQLite
    store (:mod:`noiselab.store.sqlite_rollup`), and writes the minutes as measurement
    ``noise_1m`` (fields ``energy``, ``seconds``, ``lafmax``, ``lafmin`` and ``hist``, the 0.1 dB
    histogram base64-encoded). Late and re-delivered data therefore keep the roll-up exact, which
    a scheduled downsampling task over "the last few minutes" would not.

Reads
    Flux (:mod:`noiselab.store.influx_flux`): raw readings for ``series`` and ``1s`` levels,
    ``noise_1m`` for ``minute_series`` and coarser levels, hourly sums of the band energies
    for ``hourly_bands``, ``noise_activity`` for ``activity``. Levels use the SQLite store's
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
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.config import parse_store_url
from noiselab.errors import ConfigError, ReadingRejected, StoreError, StoreUnavailable
from noiselab.model import Reading, ts_key
from noiselab.store.base import BandLevels, LevelPoint, SensorActivity, Series, WriteResult
from noiselab.store.closing import ClosesOnExit
from noiselab.store.influx_flux import activity_query, bands_query, minute_query, raw_query
from noiselab.store.influx_lines import (
    MEASUREMENT,
    SPECTRUM_MEASUREMENT,
    escape_key,
    format_float,
    readings_payload,
)
from noiselab.store.level_buckets import (
    Buckets,
    checked_edges,
    minute_buckets,
    parse_every,
    second_buckets,
)
from noiselab.store.sqlite_rollup import (
    MINUTE_MS,
    MinuteRollup,
    Rows,
    duration_ms,
    minute_keys,
    rollup_minutes,
    split_key,
)

__all__ = [
    "ACTIVITY_MEASUREMENT",
    "MAX_DURATION_S",
    "MINUTE_MEASUREMENT",
    "TOKEN_ENV",
    "InfluxStore",
    "open_influx_store",
]

TOKEN_ENV = "NOISELAB_INFLUX_TOKEN"  # noqa: S105 - the name of the variable, not a secret
MINUTE_MEASUREMENT = "noise_1m"
ACTIVITY_MEASUREMENT = "noise_activity"
MAX_DURATION_S = 3600.0
"""The longest reading the contract allows: how far before a minute a reading overlapping it
may start, so how far back the roll-up reads."""

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
    """Readings in an InfluxDB 2 bucket, with an exact per-minute roll-up beside them."""

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
        """Write ``readings`` and the roll-up of the minutes they touch; durable in InfluxDB
        when it returns. See the module docstring for errors."""
        if not readings:
            return WriteResult(0, 0, 0)
        try:
            body = readings_payload(readings, self._source_of)
        except ValueError as exc:
            raise ReadingRejected(str(exc)) from exc
        self._post(body + b"\n" + _activity_lines(readings, received_at), "write readings")
        self._write_rollup(readings)
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

    def _write_rollup(self, readings: Sequence[Reading]) -> None:
        sensors = sorted({reading.sensor_id for reading in readings})
        batch = _batch_rows(readings, sensors)
        keys = minute_keys(batch.code, batch.ts_ms, batch.end_ms)
        first_minute = min(split_key(int(key))[1] for key in keys)
        last_minute = max(split_key(int(key))[1] for key in keys)
        start = first_minute * 60.0 - MAX_DURATION_S
        stop = (last_minute + 1) * 60.0
        query = raw_query(self._bucket, MEASUREMENT, sensors, start, stop)
        stored = _raw_rows(self._query(query, "read readings back for the roll-up"), sensors)
        rollup = rollup_minutes(_merged(stored, batch), keys)
        self._post(_minute_lines(rollup, sensors), "write the roll-up")

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
        readings, coarser buckets from ``noise_1m``."""
        step = parse_every(every)
        edges = checked_edges(start, end, step, zone)
        if step is Every.S1:
            buckets = self._second_buckets(sensor_id, edges)
        else:
            buckets = self._minute_buckets(sensor_id, edges)
        return buckets.points(edges)

    def _second_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        start = float(edges[0]) - MAX_DURATION_S
        query = raw_query(self._bucket, MEASUREMENT, [sensor_id], start, float(edges[-1]))
        rows = _raw_rows(self._query(query, "read readings"), [sensor_id])
        return second_buckets(edges, rows)

    def _minute_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        query = minute_query(
            self._bucket, MINUTE_MEASUREMENT, sensor_id, float(edges[0]), float(edges[-1])
        )
        records = [r for r in self._query(query, "read minutes") if _number(r, "seconds") > 0.0]
        return minute_buckets(
            edges,
            minute=np.array([round(_time_s(r)) // 60 for r in records], np.int64),
            energies=np.array([_number(r, "energy") for r in records], np.float64),
            seconds=np.array([_number(r, "seconds") for r in records], np.float64),
            lafmax=np.array([_number(r, "lafmax") for r in records], np.float64),
            hists=[base64.b64decode(str(r.get("hist") or "")) for r in records],
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
        """The per-minute roll-up of one sensor for the minutes starting in ``[start, end)``."""
        query = minute_query(self._bucket, MINUTE_MEASUREMENT, sensor_id, start, end)
        records = [r for r in self._query(query, "read minutes") if _number(r, "seconds") > 0.0]
        seconds = np.array([_number(r, "seconds") for r in records], np.float64)
        energy = np.array([_number(r, "energy") for r in records], np.float64)
        return Series(
            ts=np.array([_time_s(r) for r in records], np.float64),
            laeq=10.0 * np.log10(energy / seconds) if records else np.zeros(0),
            duration=seconds,
            lafmax=np.array([_number(r, "lafmax") for r in records], np.float64),
        )

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


def _minute_lines(rollup: MinuteRollup, sensors: list[str]) -> bytes:
    """The ``noise_1m`` points of a roll-up (a minute no reading overlaps gets zero seconds)."""
    lines = []
    for i, key in enumerate(rollup.keys):
        code, minute = split_key(int(key))
        fields = [
            f"energy={format_float(float(rollup.energy[i]))}",
            f'hist="{base64.b64encode(rollup.hists[i]).decode()}"',
        ]
        for name, values in (("lafmax", rollup.lafmax), ("lafmin", rollup.lafmin)):
            if not math.isnan(values[i]):
                fields.append(f"{name}={format_float(float(values[i]))}")
        fields.append(f"seconds={format_float(float(rollup.seconds[i]))}")
        tags = f"sensor_id={escape_key(sensors[code])}"
        lines.append(f"{MINUTE_MEASUREMENT},{tags} {','.join(fields)} {minute * MINUTE_MS}")
    return "\n".join(lines).encode()


def _number(record: dict[str, Any], name: str, default: float = math.nan) -> float:
    value = record.get(name)
    return default if value is None else float(value)


def _time_s(record: dict[str, Any]) -> float:
    """A record's ``_time`` in Unix seconds (the client parses it into an aware datetime)."""
    value = record["_time"]
    if isinstance(value, datetime):
        return value.astimezone(UTC).timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
