"""Data and checks for the InfluxDB adapter's hourly roll-up ``noise_1h``, shared by the protocol
tests (against ``support.influx_fake``) and the live suite (against a real InfluxDB)."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.model import Reading
from noiselab.store.base import LevelPoint
from noiselab.store.influx_flux import ROLLUP_FIELDS
from noiselab.store.level_buckets import minute_buckets
from noiselab.store.sqlite_rollup import HIST_DTYPE

H0 = datetime(2026, 3, 1, 16, tzinfo=UTC).timestamp()
"""16:00 UTC: 17:00 in Copenhagen, 21:30 in Kolkata."""
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Cell:
    """One stored roll-up point (a ``noise_1m`` minute or a ``noise_1h`` hour)."""

    sensor_id: str
    ts_ms: int
    fields: dict[str, Any]


def hour_readings(sensor_id: str = "kbm-25m") -> list[Reading]:
    """Readings over 16:50-19:10 and 22:40-23:20 UTC (a Copenhagen midnight at 23:00, a
    Kolkata one at 18:30), every 5 s, a fifth without LAFmax/LAFmin, a 145-s one across 18:00
    and a half-second one."""
    rng = np.random.default_rng(11)
    out = []
    for first, last in ((H0 + 3000, H0 + 11400), (H0 + 24000, H0 + 26400)):
        for ts in np.arange(first, last, 5.0).tolist():
            level = float(round(45.0 + 30.0 * rng.random(), 1))
            extra = (level + 4.0, level - 3.0) if rng.random() < 0.8 else (None, None)
            out.append(Reading(sensor_id, ts, level, 1.0, *extra))
    out.append(Reading(sensor_id, H0 + 2 * 3600 - 100.0, 71.0, 145.0, 79.0, 60.0))
    out.append(Reading(sensor_id, H0 + 3600 + 7.25, 66.0, 0.5))
    return out


def write_all(stores: Sequence[Any], readings: list[Reading], order: Iterable[int] = range(7)):
    """``readings`` in seven batches, written in ``order`` to each store."""
    size = -(-len(readings) // 7)
    for index in order:
        for store in stores:
            store.write(readings[index * size : (index + 1) * size], received_at=H0 + 30000)


def cells_of_records(records: Iterable[dict[str, Any]]) -> list[Cell]:
    """``rollup_query`` rows as the influxdb-client gives them (an empty string is ``None``)."""
    cells = []
    for record in records:
        fields = {name: record.get(name) for name in ROLLUP_FIELDS}
        fields["hist"] = fields["hist"] or ""
        cells.append(
            Cell(
                str(record["sensor_id"]),
                round(record["_time"].timestamp() * 1000),
                {name: value for name, value in fields.items() if value is not None},
            )
        )
    return sorted(cells, key=lambda c: (c.sensor_id, c.ts_ms))


def live(cells: Iterable[Cell]) -> list[Cell]:
    """The cells with measured seconds (the others were emptied)."""
    return [c for c in cells if c.fields["seconds"] > 0]


def by_key(cells: Iterable[Cell]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(c.sensor_id, c.ts_ms): c.fields for c in cells}


def hours_from_minutes(minutes: Iterable[Cell]) -> dict[tuple[str, int], dict[str, Any]]:
    """``noise_1h`` as it must be: per hour, the live minutes in time order, energy and seconds
    added one by one, LAFmax/LAFmin the max/min, histograms merged."""
    hours: dict[tuple[str, int], dict[str, Any]] = {}
    for minute in sorted(live(minutes), key=lambda c: (c.sensor_id, c.ts_ms)):
        key = (minute.sensor_id, minute.ts_ms // HOUR_MS * HOUR_MS)
        hour = hours.setdefault(
            key, {"energy": 0.0, "seconds": 0.0, "hist": {}, "lafmax": [], "lafmin": []}
        )
        hour["energy"] += minute.fields["energy"]
        hour["seconds"] += minute.fields["seconds"]
        for name in ("lafmax", "lafmin"):
            if name in minute.fields:
                hour[name].append(minute.fields[name])
        records = np.frombuffer(base64.b64decode(minute.fields["hist"]), HIST_DTYPE)
        for bin_, ms in records.tolist():
            hour["hist"][bin_] = hour["hist"].get(bin_, 0) + ms
    expected = {}
    for key, hour in hours.items():
        hist = np.array(sorted(hour["hist"].items()), HIST_DTYPE).tobytes()
        fields = {
            "energy": hour["energy"],
            "seconds": hour["seconds"],
            "hist": base64.b64encode(hist).decode(),
        }
        if hour["lafmax"]:
            fields["lafmax"] = max(hour["lafmax"])
        if hour["lafmin"]:
            fields["lafmin"] = min(hour["lafmin"])
        expected[key] = fields
    return expected


def levels_from_minutes(
    minutes: Iterable[Cell], start: datetime, end: datetime, every: str, zone: ZoneInfo
) -> list[LevelPoint]:
    """What ``levels()`` gives from the minutes alone (as before ``noise_1h`` existed)."""
    edges = bucket_edges(start, end, Every(every), zone)
    inside = [c for c in live(minutes) if edges[0] * 1000 <= c.ts_ms < edges[-1] * 1000]
    inside.sort(key=lambda c: c.ts_ms)
    return minute_buckets(
        edges,
        minute=np.array([c.ts_ms // 60_000 for c in inside], np.int64),
        energies=np.array([c.fields["energy"] for c in inside], np.float64),
        seconds=np.array([c.fields["seconds"] for c in inside], np.float64),
        lafmax=np.array([c.fields.get("lafmax", math.nan) for c in inside], np.float64),
        hists=[base64.b64decode(c.fields["hist"]) for c in inside],
    ).points(edges)


def assert_same_levels(got: list[LevelPoint], expected: list[LevelPoint]) -> None:
    """The same buckets, LAeq equal far below 0.01 dB (energies summed in another grouping),
    LAFmax and exceedance levels identical (histograms merge exactly)."""
    assert [p.t for p in got] == [p.t for p in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.laeq == pytest.approx(b.laeq, abs=1e-9)
        assert (a.lafmax, a.l10, a.l50, a.l90) == (b.lafmax, b.l10, b.l50, b.l90)
        assert a.coverage == pytest.approx(b.coverage, rel=1e-12)
