"""Raw and per-minute series from the SQLite store, and the accuracy of roll-up percentiles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from noiselab.analysis.buckets import Every
from noiselab.analysis.levels import exceedance_levels
from noiselab.errors import QueryError
from noiselab.model import Reading
from noiselab.store import sqlite as sqlite_module
from noiselab.store.sqlite import SqliteStore

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC).timestamp()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "readings.db")


def test_series_returns_raw_arrays_in_time_order(store: SqliteStore) -> None:
    store.write(
        [
            Reading("a", T0 + 2, 52.0, lafmax=55.0),
            Reading("a", T0, 50.0),
            Reading("a", T0 + 1, 51.0, duration=0.5),
            Reading("b", T0, 99.0),
        ],
        T0 + 10,
    )
    series = store.series("a", _at(T0), _at(T0 + 3))
    assert series.ts.tolist() == [T0, T0 + 1, T0 + 2]
    assert series.laeq.tolist() == [50.0, 51.0, 52.0]
    assert series.duration.tolist() == [1.0, 0.5, 1.0]
    assert np.isnan(series.lafmax[:2]).all()
    assert series.lafmax[2] == 55.0
    assert len(store.series("a", _at(T0 + 3), _at(T0 + 9))) == 0


def test_minute_series_keeps_the_energy_of_the_raw_readings(store: SqliteStore) -> None:
    """90 s at 60 dB then 30 s at 70 dB from minute 0: minute 0 is 60 dB over 60 s; minute 1
    holds 30 s at 60 and 30 s at 70 -> 10·log10((30·10^6 + 30·10^7)/60) = 67.40 dB."""
    readings = [Reading("a", T0 + i, 60.0) for i in range(90)]
    readings += [Reading("a", T0 + 90 + i, 70.0) for i in range(30)]
    store.write(readings, T0 + 200)
    minutes = store.minute_series("a", _at(T0), _at(T0 + 120))
    assert minutes.ts.tolist() == [T0, T0 + 60]
    assert minutes.duration.tolist() == [60.0, 60.0]
    np.testing.assert_allclose(minutes.laeq, [60.0, 67.403627], atol=1e-5)
    raw_energy = 90 * 10**6 + 30 * 10**7
    assert float(np.sum(minutes.duration * 10 ** (minutes.laeq / 10))) == pytest.approx(
        raw_energy, rel=1e-12
    )


def test_an_overfull_minute_never_reaches_into_the_next(store: SqliteStore) -> None:
    """A minute of 1-s readings plus one overlapping reading (61 measured seconds) comes back as
    readings that end within the minute, with the energy of the raw readings: 60·10^5 + 10^8."""
    minute = T0 + 3600 - 60  # the last minute before a period edge would be
    readings = [Reading("a", minute + i, 50.0) for i in range(60)]
    readings.append(Reading("a", minute + 0.5, 80.0))
    store.write(readings, T0 + 7200)
    rows = store.minute_series("a", _at(minute), _at(minute + 60))
    assert (rows.ts + rows.duration <= minute + 60).all()
    assert float(rows.duration.sum()) == pytest.approx(61.0)
    assert float(np.sum(rows.duration * 10 ** (rows.laeq / 10))) == pytest.approx(
        60 * 10**5 + 10**8, rel=1e-12
    )


def test_series_refuses_huge_ranges(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write([Reading("a", T0 + i, 50.0) for i in range(11)], T0 + 20)
    monkeypatch.setattr(sqlite_module, "MAX_SERIES_ROWS", 10)
    with pytest.raises(QueryError, match="shorter range"):
        store.series("a", _at(T0), _at(T0 + 60))


@pytest.mark.parametrize("every", [Every.M1, Every.M15, Every.H1, Every.D1])
def test_rollup_percentiles_are_within_a_tenth_of_a_db_of_the_raw_ones(
    store: SqliteStore, every: Every
) -> None:
    """L10/L50/L90 read off the 0.1 dB roll-up histograms agree with the exact time-weighted
    percentiles of the raw readings to ±0.1 dB (the bins are 0.1 dB wide, centred)."""
    rng = np.random.default_rng(11)
    start = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    n = 2 * 3600
    levels = np.round(55 + 8 * rng.standard_normal(n), 3)
    store.write([Reading("p", start + i, float(levels[i])) for i in range(n)], start + n)
    points = store.levels("p", _at(start), _at(start + n), every)
    assert points
    width = {Every.M1: 60, Every.M15: 900, Every.H1: 3600}.get(every)
    for point in points:
        t = point.t.timestamp()
        first = int(t - start)
        inside = levels if width is None else levels[first : first + width]
        exact = exceedance_levels(inside, np.ones(inside.size))
        assert abs(point.l10 - exact[0]) <= 0.1
        assert abs(point.l50 - exact[1]) <= 0.1
        assert abs(point.l90 - exact[2]) <= 0.1
