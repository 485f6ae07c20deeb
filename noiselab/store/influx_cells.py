"""InfluxDB's records and our roll-up cells, both ways: annotated-CSV records read back as
rows and keyed cells, the cells of a write merged and summed into hours, and cells and
activity written as line protocol (numpy, no I/O; used by :mod:`noiselab.store.influx`)."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.model import Reading, Spectrum, ts_key
from noiselab.store.base import BandLevels, Series
from noiselab.store.influx_lines import (
    escape_key,
    format_float,
)
from noiselab.store.level_buckets import Buckets, rollup_buckets
from noiselab.store.level_ranges import RangeCells
from noiselab.store.span_sums import SpanSums
from noiselab.store.sqlite_rollup import (
    HIST_DTYPE,
    MinuteRollup,
    Rows,
    decode_hist,
    duration_ms,
    encode_hists,
    merge_hists,
    minute_key,
    sum_by,
)

__all__ = [
    "ACTIVITY_MEASUREMENT",
    "HOUR_MEASUREMENT",
    "HOUR_MS",
    "MINUTE_MEASUREMENT",
    "activity_lines",
    "band_levels",
    "batch_rows",
    "cell_lines",
    "cell_series",
    "hist",
    "hour_cells",
    "keyed_cells",
    "merged",
    "merged_cells",
    "picked",
    "raw_rows",
    "record_number",
    "record_span_sums",
    "records_buckets",
    "row_keys",
    "split_keys",
    "stored_readings",
    "time_s",
]

MINUTE_MEASUREMENT = "noise_1m"
HOUR_MEASUREMENT = "noise_1h"
HOUR_MS = 3_600_000
ACTIVITY_MEASUREMENT = "noise_activity"


def activity_lines(readings: Sequence[Reading], received_at: float) -> bytes:
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


def batch_rows(readings: Sequence[Reading], sensors: list[str]) -> Rows:
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


def raw_rows(records: list[dict[str, Any]], sensors: list[str]) -> Rows:
    """Query rows of ``raw_query`` as roll-up rows sorted by (sensor code, ts)."""
    code_of = {sid: i for i, sid in enumerate(sensors)}
    picked = [r for r in records if r.get("sensor_id") in code_of and r.get("laeq") is not None]
    code = np.array([code_of[str(r["sensor_id"])] for r in picked], np.int64)
    ts_ms = np.array([round(time_s(r) * 1000.0) for r in picked], np.int64)
    order = np.lexsort((ts_ms, code))
    return Rows(
        code=code[order],
        ts_ms=ts_ms[order],
        end_ms=(ts_ms + duration_ms([record_number(r, "duration", 1.0) for r in picked]))[order],
        laeq=np.array([record_number(r, "laeq") for r in picked], np.float64)[order],
        lafmax=np.array([record_number(r, "lafmax") for r in picked], np.float64)[order],
        lafmin=np.array([record_number(r, "lafmin") for r in picked], np.float64)[order],
    )


def merged(stored: Rows, batch: Rows) -> Rows:
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


def row_keys(rows: Rows) -> IntArray:
    """One integer per ``(code, ts_ms)`` of ``rows`` (ts_ms below 2**43: until year 2248)."""
    return rows.code * (1 << 44) + rows.ts_ms


def split_keys(keys: IntArray) -> tuple[IntArray, IntArray]:
    """``(code, number)`` arrays of roll-up keys ``code << 32 | number`` (``minute_key``), where
    the number is a Unix minute or hour."""
    code = keys >> 32
    return code, keys - minute_key(code, np.zeros_like(code))


def picked(
    records: list[dict[str, Any]], wanted: Callable[[FloatArray], npt.NDArray[np.bool_]]
) -> list[dict[str, Any]]:
    """The ``records`` whose start (Unix s) ``wanted`` accepts."""
    mask = wanted(np.array([time_s(r) for r in records], np.float64)).tolist()
    return [r for r, keep in zip(records, mask, strict=True) if keep]


def hist(record: dict[str, Any]) -> bytes:
    return base64.b64decode(str(record.get("hist") or ""))


def keyed_cells(records: list[dict[str, Any]], sensors: list[str], width_ms: int) -> MinuteRollup:
    """Roll-up cells read back (``rollup_query`` rows of ``sensors``) as a ``MinuteRollup``
    keyed ``code << 32 | cell number``, sorted by key."""
    code_of = {sid: i for i, sid in enumerate(sensors)}
    picked = [r for r in records if r.get("sensor_id") in code_of]
    code = np.array([code_of[str(r["sensor_id"])] for r in picked], np.int64)
    number = np.array([round(time_s(r) * 1000.0) // width_ms for r in picked], np.int64)
    keys, first = np.unique(minute_key(code, number), return_index=True)
    chosen = [picked[i] for i in first.tolist()]
    return MinuteRollup(
        keys=keys,
        energy=np.array([record_number(r, "energy", 0.0) for r in chosen], np.float64),
        seconds=np.array([record_number(r, "seconds", 0.0) for r in chosen], np.float64),
        lafmax=np.array([record_number(r, "lafmax") for r in chosen], np.float64),
        lafmin=np.array([record_number(r, "lafmin") for r in chosen], np.float64),
        hists=[hist(r) for r in chosen],
    )


def merged_cells(fresh: MinuteRollup, stored: MinuteRollup) -> MinuteRollup:
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


def hour_cells(minutes: MinuteRollup, hour_keys: IntArray) -> MinuteRollup:
    """The hours ``hour_keys`` (sorted unique ``code << 32 | Unix hour``) from ``minutes``
    (sorted by key; minutes of other hours are ignored): energy and seconds summed in minute
    order with ``sum_by``, LAFmax/LAFmin the max/min, histograms merged. The same minutes always
    give the same bits. An hour without measured minutes gets zero seconds (emptied)."""
    n = hour_keys.size
    live = np.flatnonzero(minutes.seconds > 0.0)
    code, minute = split_keys(minutes.keys[live])
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
        hists=encode_hists(n, group, bins, ms),
    )


def cell_lines(measurement: str, cells: MinuteRollup, sensors: list[str], width_ms: int) -> bytes:
    """The points of roll-up cells (``noise_1m`` minutes, ``noise_1h`` hours). A cell no reading
    overlaps any more gets zero seconds, zero energy and an empty histogram: InfluxDB cannot
    delete a point in a write, so readers skip such cells (see the module docstring)."""
    lines = []
    code, number = split_keys(cells.keys)
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


def cell_series(records: list[dict[str, Any]]) -> Series:
    """``rollup_query`` rows as a ``Series``, the zero-second (emptied) cells left out."""
    live = [r for r in records if record_number(r, "seconds", 0.0) > 0.0]
    seconds = np.array([record_number(r, "seconds") for r in live], np.float64)
    energy = np.array([record_number(r, "energy") for r in live], np.float64)
    return Series(
        ts=np.array([time_s(r) for r in live], np.float64),
        laeq=10.0 * np.log10(energy / seconds) if live else np.zeros(0),
        duration=seconds,
        lafmax=np.array([record_number(r, "lafmax") for r in live], np.float64),
    )


def band_levels(records: list[dict[str, Any]]) -> BandLevels:
    """``bands_query`` records as ``BandLevels``: per band ``10·log10(Σ e_band / Σ duration)``
    over each UTC hour (every reading of a sensor is expected to carry the same bands, as the
    contract's third-octave set); hours without seconds left out."""
    live = [r for r in records if record_number(r, "duration") > 0]
    if not live:
        empty = np.zeros(0)
        return BandLevels(empty, empty, np.zeros((0, 0)), empty)
    fields = sorted((name for name in live[0] if name.startswith("e_")), key=lambda n: float(n[2:]))
    seconds = np.array([record_number(r, "duration") for r in live], np.float64)
    energies = np.array([[record_number(r, name) for name in fields] for r in live])
    return BandLevels(
        t=np.array([time_s(r) for r in live], np.float64),
        bands_hz=np.array([float(name[2:]) for name in fields], np.float64),
        lzeq=10.0 * np.log10(energies / seconds[:, None]),
        seconds=seconds,
    )


def records_buckets(
    records: list[dict[str, Any]], grid: FloatArray, cells: RangeCells | None
) -> Buckets:
    """Buckets of ``grid`` from ``rollup_query`` records of hours and minutes (as
    ``RollupTiers`` picked them), the emptied cells left out and the others summed in time
    order; ``cells`` apply their ranges (:mod:`noiselab.store.level_ranges`)."""
    live = sorted((r for r in records if record_number(r, "seconds", 0.0) > 0.0), key=time_s)
    buckets = rollup_buckets(
        grid,
        start_s=np.array([time_s(r) for r in live], np.float64),
        energies=np.array([record_number(r, "energy") for r in live], np.float64),
        seconds=np.array([record_number(r, "seconds") for r in live], np.float64),
        lafmax=np.array([record_number(r, "lafmax") for r in live], np.float64),
        hists=[hist(r) for r in live],
        cells=cells,
    )
    return buckets if cells is None else buckets.ranged(cells)


def record_span_sums(
    records: list[dict[str, Any]], spans: tuple[FloatArray, FloatArray]
) -> SpanSums:
    """The sums over ``spans`` (starts, ends) of the ``minute_query`` records starting in
    them (``ReadingStore.minute_sums``)."""
    rows = [
        (time_s(r), *(record_number(r, k) for k in ("energy", "seconds", "lafmax")))
        for r in records
    ]
    columns = np.array(rows, np.float64).reshape(-1, 4).T
    return SpanSums.of_minutes(spans, columns[0], (columns[1], columns[2], columns[3]))


def record_number(record: dict[str, Any], name: str, default: float = math.nan) -> float:
    value = record.get(name)
    return default if value is None else float(value)


def time_s(record: dict[str, Any]) -> float:
    """A record's ``_time`` in Unix seconds (the client parses it into an aware datetime)."""
    value = record["_time"]
    if isinstance(value, datetime):
        return value.astimezone(UTC).timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def stored_readings(
    records: list[dict[str, Any]], spectra: list[dict[str, Any]]
) -> dict[tuple[str, int], Reading]:
    """``stored_query`` rows as readings keyed ``(sensor_id, ts_ms)``, with the spectra of
    ``spectra_query`` rows at the same keys (band centres from the ``lz_<centre>`` keys)."""
    spectrum_at: dict[tuple[str, int], Spectrum] = {}
    for record in spectra:
        bands = sorted(
            (float(name[3:]), float(value))
            for name, value in record.items()
            if name.startswith("lz_") and value is not None
        )
        if bands:
            key = (str(record["sensor_id"]), ts_key(time_s(record)))
            spectrum_at[key] = Spectrum(
                tuple(b for b, _ in bands), tuple(level for _, level in bands)
            )
    found: dict[tuple[str, int], Reading] = {}
    for record in records:
        if record.get("laeq") is None:
            continue
        sensor_id, ts_ms = str(record["sensor_id"]), ts_key(time_s(record))
        seq = record.get("seq")
        found[(sensor_id, ts_ms)] = Reading(
            sensor_id=sensor_id,
            ts=ts_ms / 1000.0,
            laeq=float(record["laeq"]),
            duration=record_number(record, "duration", 1.0),
            lafmax=_optional(record.get("lafmax")),
            lafmin=_optional(record.get("lafmin")),
            spectrum=spectrum_at.get((sensor_id, ts_ms)),
            seq=None if seq is None else int(seq),
        )
    return found


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
