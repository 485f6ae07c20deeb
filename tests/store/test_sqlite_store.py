"""SqliteStore writes against real SQLite files: counts, idempotent redelivery, immutable history,
late and out-of-order data, the minute roll-up kept equal to its recomputation (also after random
writes), and reading the stored data back. Level queries are in ``test_sqlite_levels.py``; errors,
schema migration and concurrent writers in ``test_sqlite_files.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.sqlite_store import RECEIVED, H, assert_rollup_matches, reading, utc

from noiselab.model import Reading, Spectrum, ts_key
from noiselab.store.base import WriteResult
from noiselab.store.conflicts import Conflict, same_reading
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_rollup import decode_hist

# -- idempotence and immutable history ---------------------------------------------------------


def test_write_inserts_and_counts(store):
    result = store.write([reading(H + i, 60.0 + i) for i in range(5)], RECEIVED)
    assert result == WriteResult(inserted=5, unchanged=0)
    assert store.count_readings() == 5
    assert store.count_readings("s-1") == 5
    assert store.count_readings("other") == 0


def test_write_of_nothing_is_a_no_op(store):
    assert store.write([], RECEIVED) == WriteResult(0, 0)


def test_identical_redelivery_changes_nothing(store):
    batch = [reading(H + i * 0.5, 55.0 + i, duration=0.5, lafmax=70.0, seq=i) for i in range(200)]
    store.write(batch, RECEIVED)
    rollup = store.rollup_rows("s-1")
    assert store.write(batch, RECEIVED + 60) == WriteResult(0, 200)
    assert store.write(batch[50:60], RECEIVED + 120) == WriteResult(0, 10)
    assert store.rollup_rows("s-1") == rollup
    assert store.count_readings() == 200
    assert store.activity()[0].last_received == RECEIVED


def test_differing_reading_is_refused_and_the_stored_one_kept(store):
    store.write([reading(H, 60.0), reading(H + 1, 61.0)], RECEIVED)
    rollup = store.rollup_rows("s-1")
    offered = reading(H, 80.0, lafmax=90.0)
    result = store.write([offered, reading(H + 1, 61.0)], RECEIVED + 1)
    assert result == WriteResult(
        inserted=0, unchanged=1, conflicts=(Conflict(offered, reading(H, 60.0)),)
    )
    [first, second] = store.readings("s-1", H, H + 10)
    assert (first.laeq, first.lafmax, second.laeq) == (60.0, None, 61.0)
    assert store.rollup_rows("s-1") == rollup
    assert store.activity()[0].last_received == RECEIVED


def test_any_field_difference_is_a_conflict(store):
    base = reading(H, 60.0, lafmax=70.0, lafmin=50.0, seq=3)
    store.write([base], RECEIVED)
    for changed in (
        reading(H, 60.0, lafmax=70.0, lafmin=50.0, seq=4),
        reading(H, 60.0, lafmax=70.0, lafmin=49.0, seq=3),
        reading(H, 60.0, lafmax=70.0, lafmin=50.0, seq=3, spectrum=Spectrum((1000.0,), (55.0,))),
        reading(H, 60.0, duration=2.0, lafmax=70.0, lafmin=50.0, seq=3),
    ):
        assert store.write([changed], RECEIVED) == WriteResult(0, 0, (Conflict(changed, base),))
    assert store.write([base], RECEIVED) == WriteResult(0, 1)
    assert store.readings("s-1", H, H + 10) == [base]


def test_a_longer_conflicting_reading_leaves_the_rollup_alone(store):
    """A 1-s reading at H+30 offered again as a 150-s one (minutes 0, 1 and 2 after H) is a
    conflict: minute 1 stays empty and minute 2 keeps only its own reading."""
    store.write([reading(H + 30, 60.0), reading(H + 150, 50.0)], RECEIVED)
    rows = store.rollup_rows("s-1")
    (conflict,) = store.write([reading(H + 30, 60.0, duration=150.0)], RECEIVED).conflicts
    assert conflict.stored == reading(H + 30, 60.0)
    assert store.rollup_rows("s-1") == rows
    assert [(r[1] - H // 60, r[3]) for r in rows] == [(0, 1.0), (2, 1.0)]
    assert_rollup_matches(store, "s-1", store.readings("s-1", H, H + 600))


def test_first_reading_of_a_key_within_one_write_wins(store):
    later = reading(H, 70.0)
    batch = [reading(H, 60.0), reading(H + 1, 50.0), later, reading(H, 60.0)]
    result = store.write(batch, RECEIVED)
    assert result == WriteResult(
        inserted=2, unchanged=1, conflicts=(Conflict(later, reading(H, 60.0)),)
    )
    assert [r.laeq for r in store.readings("s-1", H, H + 2)] == [60.0, 50.0]


def test_late_and_out_of_order_data(store):
    """Minute 2 first (30 readings, every 2 s), then minute 0 late (20 readings, every 3 s),
    then readings filling the odd seconds of minute 2 (10), then a 10-s reading at H+55 that
    straddles minutes 0 and 1 together with a replacement of H+3. Measured seconds: minute 0
    20 + 5 = 25, minute 1 5, minute 2 30 + 10 = 40."""
    writes = [
        [reading(H + 120 + 2 * i, 50.0 + i % 5) for i in range(30)],
        [reading(H + i, 70.0) for i in range(0, 60, 3)],
        [reading(H + 121 + 2 * i, 65.0) for i in range(10)],
        [reading(H + 55, 75.0, duration=10.0), reading(H + 3, 40.0)],
    ]
    for batch in writes:
        store.write(batch[::-1], RECEIVED)
    stored = store.readings("s-1", H - 60, H + 600)
    assert len(stored) == 30 + 20 + 10 + 1
    assert_rollup_matches(store, "s-1", stored)
    seconds = {r[1] - H // 60: r[3] for r in store.rollup_rows("s-1")}
    assert seconds == {0: 25.0, 1: 5.0, 2: 40.0}


def test_reading_crossing_minute_boundaries(store):
    """70 dB from H+50 s for 80 s: 10 s in minute 0, 60 s in minute 1, 10 s in minute 2.
    Energy = overlap·10^(70/10) = 10·10^7 = 1e8, 60·10^7 = 6e8 and 1e8; its LAFmax 82 dB goes
    to all three minutes (an upper bound). Longer than 1 s, it stays out of the histograms."""
    store.write([reading(H + 50, 70.0, duration=80.0, lafmax=82.0, lafmin=61.0)], RECEIVED)
    rows = store.rollup_rows("s-1")
    minute = H // 60
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [
        (minute, 10.0, 82.0, 61.0),
        (minute + 1, 60.0, 82.0, 61.0),
        (minute + 2, 10.0, 82.0, 61.0),
    ]
    np.testing.assert_allclose([r[2] for r in rows], [1e8, 6e8, 1e8], rtol=1e-12)
    assert [decode_hist(r[6])[0].tolist() for r in rows] == [[]] * 3


def test_sensors_are_kept_apart(store):
    store.write([reading(H, 60.0, sensor="a"), reading(H, 70.0, sensor="b")], RECEIVED)
    assert [r[3] for r in store.rollup_rows("a")] == [1.0]
    assert store.levels("a", utc(H), utc(H + 60), "1m")[0].laeq == pytest.approx(60.0)
    assert store.levels("b", utc(H), utc(H + 60), "1m")[0].laeq == pytest.approx(70.0)


# -- roll-up == recomputation after random writes -----------------------------------------------

_readings = st.builds(
    reading,
    ts=st.builds(
        lambda k, far: H + 20 + k * 0.5 + far,  # half-second grid, in up to three stretches
        st.integers(0, 400),
        st.sampled_from([0, 0, 600, 1500]),
    ),
    laeq=st.sampled_from([40.0, 55.55, 70.25, 83.3]),
    duration=st.sampled_from([0.25, 0.5, 1.0, 7.25, 60.0, 90.0, 150.0]),
    sensor=st.sampled_from(["s-a", "s-b"]),
    lafmax=st.none() | st.sampled_from([75.0, 90.5]),
    lafmin=st.none() | st.just(35.0),
)


@settings(max_examples=60, deadline=None)
@given(writes=st.lists(st.lists(_readings, min_size=1, max_size=25), min_size=1, max_size=8))
def test_rollup_equals_recomputation_after_random_writes(writes):
    model: dict[tuple[str, int], Reading] = {}
    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "ts.db") as store:
        for batch in writes:
            expected = expected_result(model, batch)
            got = store.write(batch, RECEIVED)
            assert (got.inserted, got.unchanged) == (expected.inserted, expected.unchanged)
            assert sorted(map(repr, got.conflicts)) == sorted(map(repr, expected.conflicts))
        for sensor in ("s-a", "s-b"):
            stored = [r for (s, _), r in sorted(model.items()) if s == sensor]
            assert store.readings(sensor, H - 3600, H + 3600) == stored
            assert_rollup_matches(store, sensor, stored)


def expected_result(model: dict[tuple[str, int], Reading], batch: list[Reading]) -> WriteResult:
    """Apply ``batch`` to the model (the first reading of a key wins, for ever) and say what a
    write reports."""
    inserted = unchanged = 0
    conflicts: list[Conflict] = []
    for new in batch:
        key = (new.sensor_id, ts_key(new.ts))
        old = model.get(key)
        if old is None:
            model[key] = new
            inserted += 1
        elif same_reading(old, new):
            unchanged += 1
        else:
            conflicts.append(Conflict(new, old))
    return WriteResult(inserted, unchanged, tuple(conflicts))


# -- other queries ------------------------------------------------------------------------------


def test_readings_round_trip_all_fields(store):
    spectrum = Spectrum((100.0, 1000.0), (61.5, 58.25))
    original = reading(H + 0.123, 61.2, 0.5, lafmax=70.1, lafmin=40.2, spectrum=spectrum, seq=9)
    store.write([original], RECEIVED)
    [back] = store.readings("s-1", H, H + 1)
    assert back == original


def test_activity_reports_latest_end_and_its_receive_time(store):
    store.write([reading(H, 60.0), reading(H + 10, 60.0, duration=5.0)], RECEIVED)
    store.write([reading(H + 5, 60.0)], RECEIVED + 100)  # late data: not the latest
    store.write([reading(H, 61.0, sensor="b")], RECEIVED + 200)
    activity = {a.sensor_id: a for a in store.activity()}
    assert (activity["s-1"].last_ts, activity["s-1"].last_received) == (H + 15, RECEIVED)
    assert (activity["b"].last_ts, activity["b"].last_received) == (H + 1, RECEIVED + 200)
