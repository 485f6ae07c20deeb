"""The sensor's SQLite outbox: durable across reopening, oldest first, bounded batches."""

from __future__ import annotations

import json
import sqlite3

import pytest

from noiselab.edge.buffer import OutboxError, ReadingBuffer

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z


def readings(n: int, start: float = T0) -> list[dict[str, object]]:
    return [
        {"ts": start + i, "duration": 1, "laeq": 55.25, "lafmax": 61.5, "lafmin": 49.75}
        for i in range(n)
    ]


def test_readings_survive_reopening_and_seq_carries_on(tmp_path):
    path = tmp_path / "outbox.db"
    first = ReadingBuffer(path, "mic-1")
    first.append(readings(3))
    first.close()
    again = ReadingBuffer(path, "mic-1")
    again.append(readings(2, start=T0 + 3))
    batch = again.pending(0, max_readings=100, max_bytes=1_000_000)
    again.close()
    assert batch is not None
    sent = json.loads(batch.payload())
    assert [r["seq"] for r in sent] == [0, 1, 2, 3, 4]
    assert [r["ts"] for r in sent] == [T0 + i for i in range(5)]
    assert sent[0] == {
        "ts": T0,
        "duration": 1,
        "laeq": 55.25,
        "lafmax": 61.5,
        "lafmin": 49.75,
        "seq": 0,
    }


def test_pending_is_oldest_first_bounded_by_count_and_bytes(tmp_path):
    buffer = ReadingBuffer(tmp_path / "outbox.db", "mic-1")
    try:
        buffer.append(readings(25))
        one = buffer.pending(0, max_readings=1, max_bytes=1_000_000)
        assert one is not None
        assert json.loads(one.payload())["seq"] == 0  # a single reading goes as an object
        ten = buffer.pending(0, max_readings=10, max_bytes=1_000_000)
        assert ten is not None
        assert (ten.first, ten.last) == (1, 10)
        size = len(one.bodies[0])
        # "[" + 3 bodies + 2 commas + "]" fits exactly; a fourth body would not.
        capped = buffer.pending(3, max_readings=10, max_bytes=3 * size + 4)
        assert capped is not None
        assert len(capped.payload()) == 3 * size + 4
        assert [r["seq"] for r in json.loads(capped.payload())] == [3, 4, 5]
        buffer.delete(1, 10)
        assert buffer.count() == 15
        rest = buffer.pending(0, max_readings=100, max_bytes=1_000_000)
        assert rest is not None
        assert rest.first == 11
    finally:
        buffer.close()


def test_a_buffer_of_another_sensor_is_refused(tmp_path):
    ReadingBuffer(tmp_path / "outbox.db", "mic-1").close()
    with pytest.raises(OutboxError, match="holds readings of sensor 'mic-1', not 'mic-2'"):
        ReadingBuffer(tmp_path / "outbox.db", "mic-2")


def test_the_file_is_in_wal_mode_and_an_hour_takes_under_400_kb(tmp_path):
    """3,600 readings at about 85 bytes of JSON each: 8.5 MB a day (86,400) as documented."""
    path = tmp_path / "outbox.db"
    buffer = ReadingBuffer(path, "mic-1")
    buffer.append(readings(3600))
    buffer.close()  # the last connection checkpoints the WAL into the file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert 3600 * 80 < path.stat().st_size < 400_000
