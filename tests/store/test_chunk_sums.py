"""The minute sums kept beside each chunk (``minute_sums``, noiselab.store.chunk_sums): written
by compaction with exactly the chunk's minutes, read by ``minute_sums`` without decoding the
chunk, removed when the chunk is thawed; a chunk without them (written before they existed)
is decoded instead, to the same answer."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from noiselab.model import Reading
from noiselab.store.chunk_codec import decode_minute_sums
from noiselab.store.chunk_rows import ChunkMinutes
from noiselab.store.chunk_sums import decode_sums, encode_sums
from noiselab.store.sqlite import SqliteStore

HOUR = 493_000  # 2026-03-29T16:00:00Z as floor(t / 3600)
T0 = HOUR * 3600.0
SENSOR = "kbm-25m"


def test_a_blob_gives_back_the_minutes_bit_for_bit() -> None:
    """Two of sixty minutes, one without LAFmax: offsets, float64 sums and NaN kept."""
    minutes = ChunkMinutes(
        minute=np.array([HOUR * 60 + 3, HOUR * 60 + 59]),
        energy=np.array([60.0 * 10**6.123, 0.1 + 0.2]),
        seconds=np.array([60.0, 0.3]),
        lafmax=np.array([71.37, np.nan]),
        lafmin=np.array([50.0, np.nan]),
        hist=[b"", b""],
    )
    minute, energy, seconds, lafmax = decode_sums(HOUR, encode_sums(HOUR, minutes))
    np.testing.assert_array_equal(minute, minutes.minute)
    assert energy.tobytes() == minutes.energy.tobytes()
    assert seconds.tobytes() == minutes.seconds.tobytes()
    np.testing.assert_array_equal(lafmax, minutes.lafmax)


@pytest.mark.parametrize("blob", [b"", b"not zstd", b"\x28\xb5\x2f\xfd\x00\x00\x00"])
def test_a_corrupt_blob_is_a_value_error(blob: bytes) -> None:
    with pytest.raises(ValueError, match="minute sums of hour"):
        decode_sums(HOUR, blob)


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def test_compaction_keeps_the_sums_and_reads_agree_with_and_without_them(tmp_path: Path) -> None:
    """Three hours of 1-s readings (a level rising 0.01 dB a second), compacted: one sums row
    per chunk holding the chunk's own minutes; the sums over 40 spans are the same hot,
    compacted with the sums, and compacted without them (the chunk decoded)."""
    path = tmp_path / "readings.db"
    seconds = 3 * 3600
    levels = 50.0 + 0.01 * (np.arange(seconds) % 2000)
    with SqliteStore(path) as store:
        store.write(
            [Reading(SENSOR, T0 + i, float(levels[i])) for i in range(seconds)], T0 + seconds
        )
        starts = T0 + 60.0 * np.arange(0, 160, 4)
        ends = starts + 120.0
        hot = store.minute_sums(SENSOR, starts, ends)
        store.compact(now=T0 + 10 * 86_400)
        kept = store.minute_sums(SENSOR, starts, ends)
    chunks = _rows(path, "SELECT hour, data FROM chunks ORDER BY hour")
    sums = _rows(path, "SELECT hour, data FROM minute_sums ORDER BY hour")
    assert [h for h, _ in sums] == [h for h, _ in chunks] == [HOUR, HOUR + 1, HOUR + 2]
    for (hour, chunk), (_, blob) in zip(chunks, sums, strict=True):
        from_chunk, from_sums = decode_minute_sums(chunk), decode_sums(hour, blob)
        for a, b in zip(from_chunk, from_sums, strict=True):
            np.testing.assert_array_equal(a, b)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM minute_sums")
    with SqliteStore(path) as store:
        decoded = store.minute_sums(SENSOR, starts, ends)
    for series in (kept, decoded):
        assert len(series) == len(hot) == 40
        np.testing.assert_array_equal(series.ts, hot.ts)
        np.testing.assert_allclose(series.laeq, hot.laeq, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(series.duration, hot.duration)
        np.testing.assert_array_equal(series.lafmax, hot.lafmax)


def test_a_late_reading_thaws_the_hour_and_its_sums_go_with_the_chunk(tmp_path: Path) -> None:
    path = tmp_path / "readings.db"
    with SqliteStore(path) as store:
        store.write([Reading(SENSOR, T0 + i, 60.0) for i in range(0, 3600, 2)], T0 + 3600)
        store.compact(now=T0 + 10 * 86_400)
        assert _rows(path, "SELECT count(*) FROM minute_sums") == [(1,)]
        store.write([Reading(SENSOR, T0 + 1, 70.0)], T0 + 10 * 86_400)
        assert _rows(path, "SELECT count(*) FROM minute_sums") == [(0,)]
        late = store.minute_sums(SENSOR, np.array([T0]), np.array([T0 + 60.0]))
        # The first minute: 30 s at 60 dB and the late second at 70 dB.
        expected = 10 * np.log10((30 * 10**6 + 10**7) / 31)
        np.testing.assert_allclose(late.laeq, [expected], atol=1e-9)
        store.compact(now=T0 + 20 * 86_400)
    assert _rows(path, "SELECT count(*) FROM minute_sums") == [(1,)]
