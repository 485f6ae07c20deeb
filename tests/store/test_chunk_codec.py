"""The chunk codec: exact round trips of readings and minute roll-ups (levels at 0.01 dB), the
size of typical chunks, and the refusal of values it cannot store and of damaged blobs."""

from __future__ import annotations

import contextlib
import struct
from itertools import pairwise

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.store.chunk_codec import (
    FORMAT_VERSION,
    ChunkMinutes,
    ChunkReadings,
    chunk_count,
    decode_chunk,
    decode_readings,
    encode_chunk,
)

HOUR_MS = 1_767_225_600_000
NO_MINUTES = ChunkMinutes.from_rows([])
HEADER = struct.Struct("<BIIB7I")  # version, readings, minutes, framing, 7 sizes (module docstring)


def bits(value: float) -> int:
    return int.from_bytes(struct.pack("<d", value), "little")


def round_trip(readings: ChunkReadings, minutes: ChunkMinutes = NO_MINUTES):
    blob = encode_chunk(readings, minutes)
    assert chunk_count(blob) == len(readings)
    got_readings, got_minutes = decode_chunk(blob)
    assert decode_readings(blob).rows() == got_readings.rows()
    return got_readings, got_minutes


def reading_rows(count: int, *, start_ms: int = HOUR_MS, **fields) -> list[tuple]:
    """``count`` 1-s rows at 60 dB with the given fields replaced by per-row lists."""
    base = {
        "duration": [1.0] * count,
        "laeq": [60.0] * count,
        "lafmax": [None] * count,
        "lafmin": [None] * count,
        "spectrum": [None] * count,
        "seq": [None] * count,
        "received_at": [HOUR_MS / 1000 + 3600.0] * count,
    } | fields
    return list(
        zip(
            [start_ms + 1000 * i for i in range(count)],
            *(base[k] for k in ("duration", "laeq", "lafmax", "lafmin", "spectrum", "seq")),
            base["received_at"],
            strict=True,
        )
    )


# -- strategies ---------------------------------------------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)
TWO_DECIMALS = st.integers(-(2**31) + 1, 2**31 - 1).map(lambda q: q / 100)
"""Levels with at most two decimals: they come back as the same float."""
DURATIONS = st.sampled_from([1.0, 0.125, 145.3337, 60.0, -0.0]) | st.floats(allow_nan=False)
MILLISECONDS = st.integers(-(2**50), 2**50).map(lambda ms: ms / 1000)
SPECTRA = st.none() | st.text(max_size=40) | st.just('{"bands_hz":[100.0],"lzeq":[51.3]}')


@st.composite
def reading_row_lists(draw):
    ts = sorted(draw(st.sets(INT64 | st.integers(HOUR_MS, HOUR_MS + 3_599_999), max_size=30)))
    n = len(ts)
    rows = zip(
        ts,
        draw(st.lists(DURATIONS, min_size=n, max_size=n)),
        draw(st.lists(TWO_DECIMALS, min_size=n, max_size=n)),
        draw(st.lists(st.none() | TWO_DECIMALS, min_size=n, max_size=n)),
        draw(st.lists(st.none() | TWO_DECIMALS, min_size=n, max_size=n)),
        draw(st.lists(SPECTRA, min_size=n, max_size=n)),
        draw(st.lists(st.none() | INT64, min_size=n, max_size=n)),
        draw(st.lists(MILLISECONDS, min_size=n, max_size=n)),
        strict=True,
    )
    return list(rows)


HIST_RECORDS = st.lists(
    st.tuples(
        st.integers(0, 0xFFFF),
        st.sampled_from([0, 1000, 3000, 0xFFFFFFFF]) | st.integers(0, 0xFFFFFFFF),
    ),
    max_size=12,
).map(lambda records: b"".join(struct.pack("<HI", b, ms) for b, ms in records))
MINUTE_FLOATS = st.floats(allow_nan=False) | TWO_DECIMALS


@st.composite
def minute_row_lists(draw):
    minutes = sorted(draw(st.sets(INT64, max_size=12)))
    n = len(minutes)
    hist = HIST_RECORDS if draw(st.booleans()) else HIST_RECORDS | st.binary(max_size=20)
    rows = zip(
        minutes,
        draw(st.lists(MINUTE_FLOATS, min_size=n, max_size=n)),
        draw(st.lists(MINUTE_FLOATS, min_size=n, max_size=n)),
        draw(st.lists(st.none() | MINUTE_FLOATS, min_size=n, max_size=n)),
        draw(st.lists(st.none() | MINUTE_FLOATS, min_size=n, max_size=n)),
        draw(st.lists(hist, min_size=n, max_size=n)),
        strict=True,
    )
    return list(rows)


# -- round trips --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rows=reading_row_lists(), minute_rows=minute_row_lists())
def test_rows_round_trip_exactly(rows, minute_rows):
    readings, minutes = round_trip(
        ChunkReadings.from_rows(rows), ChunkMinutes.from_rows(minute_rows)
    )
    assert readings.rows() == rows
    assert minutes.rows() == minute_rows
    # bit for bit, which == does not see for -0.0
    assert [bits(r[1]) for r in readings.rows()] == [bits(r[1]) for r in rows]
    assert minute_bits(minutes.rows()) == minute_bits(minute_rows)


def minute_bits(rows):
    return [[None if v is None else bits(v) for v in row[1:5]] for row in rows]


@settings(max_examples=200, deadline=None)
@given(
    levels=st.lists(
        st.floats(-21_474_836.0, 21_474_836.0) | st.floats(0, 140), min_size=1, max_size=50
    )
)
def test_levels_come_back_within_five_thousandths_of_a_db(levels):
    rows = reading_rows(len(levels), laeq=levels, lafmax=levels[::-1], lafmin=levels)
    readings, _ = round_trip(ChunkReadings.from_rows(rows))
    for got, sent in zip(readings.rows(), rows, strict=True):
        for i in (2, 3, 4):
            assert abs(got[i] - sent[i]) <= 0.005 + 1e-9 * abs(sent[i])


def test_two_decimal_levels_come_back_as_the_same_floats():
    levels = [71.53, 0.07, 35.1, 120.99, -3.33, 0.0, 99.99]
    rows = reading_rows(len(levels), laeq=levels, lafmax=levels, lafmin=levels)
    readings, _ = round_trip(ChunkReadings.from_rows(rows))
    assert readings.rows() == rows


def test_received_at_comes_back_at_millisecond_resolution():
    sent = [1_767_229_200.123456, 1_767_229_200.9999, 1_767_229_201.0004]
    readings, _ = round_trip(ChunkReadings.from_rows(reading_rows(3, received_at=sent)))
    assert readings.received_at.tolist() == [1_767_229_200.123, 1_767_229_201.0, 1_767_229_201.0]


@pytest.mark.parametrize("duration", [1.0, 0.125, 145.3337])
def test_single_reading_chunk(duration):
    rows = reading_rows(1, duration=[duration], lafmax=[70.2], seq=[7], spectrum=['{"a":1}'])
    readings, minutes = round_trip(ChunkReadings.from_rows(rows))
    assert readings.rows() == rows
    assert [type(value) for value in readings.rows()[0]] == [type(value) for value in rows[0]]
    assert len(readings) == 1
    assert len(minutes) == 0


def test_empty_chunk():
    readings, minutes = round_trip(ChunkReadings.from_rows([]), NO_MINUTES)
    assert (readings.rows(), minutes.rows()) == ([], [])


def test_roll_up_histograms_round_trip():
    """Records as the roll-up makes them, and a partial second that is not a whole count."""
    hists = [
        struct.pack("<HIHIHI", 600, 2000, 601, 57_000, 640, 1000),
        struct.pack("<HI", 700, 59_500),
        b"",
    ]
    rows = [(29_453_760 + i, 6.0e8 + i, 60.0, 74.2, None, h) for i, h in enumerate(hists)]
    _, minutes = round_trip(ChunkReadings.from_rows([]), ChunkMinutes.from_rows(rows))
    assert minutes.rows() == rows


# -- size ---------------------------------------------------------------------------------------


def test_a_typical_hour_takes_about_a_byte_per_reading():
    """An hour of 1-s readings at 0.1 dB: a random walk of LAeq, LAFmax/LAFmin around it, one
    write; about 6 bits of information per reading, well below the 73 bytes of a table row."""
    rng = np.random.default_rng(1)
    laeq = np.round(55 + np.cumsum(rng.choice([-0.2, -0.1, 0, 0.1, 0.2], 3600)), 1)
    lafmax = np.round(laeq + rng.choice([0.4, 0.5, 0.6, 0.8], 3600), 1)
    lafmin = np.round(laeq - rng.choice([0.3, 0.5, 0.7], 3600), 1)
    rows = reading_rows(
        3600,
        laeq=laeq.tolist(),
        lafmax=lafmax.tolist(),
        lafmin=lafmin.tolist(),
        seq=list(range(3600)),
    )
    blob = encode_chunk(ChunkReadings.from_rows(rows), NO_MINUTES)
    assert len(blob) / 3600 < 1.0
    assert decode_readings(blob).rows() == rows


def test_a_constant_hour_costs_next_to_nothing():
    blob = encode_chunk(ChunkReadings.from_rows(reading_rows(3600)), NO_MINUTES)
    assert len(blob) < 200


# -- values that cannot be stored ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("laeq", float("inf")),
        ("laeq", float("nan")),
        ("lafmax", float("-inf")),
        ("lafmin", float("inf")),
        ("laeq", 21_474_836.48),
        ("lafmax", -1e300),
    ],
)
def test_a_level_that_does_not_fit_is_refused_by_name(field, value):
    rows = reading_rows(3, **{field: [60.0, value, 61.0]})
    with pytest.raises(ValueError, match=rf"{field} = .* at ts_ms {HOUR_MS + 1000}"):
        encode_chunk(ChunkReadings.from_rows(rows), NO_MINUTES)


def test_received_at_that_is_not_finite_is_refused():
    rows = reading_rows(2, received_at=[1.0, float("inf")])
    with pytest.raises(ValueError, match="received_at"):
        encode_chunk(ChunkReadings.from_rows(rows), NO_MINUTES)


def test_seq_beyond_64_bits_is_refused():
    rows = reading_rows(1, seq=[2**63])
    with pytest.raises(ValueError, match="seq"):
        encode_chunk(ChunkReadings.from_rows(rows), NO_MINUTES)


def test_columns_must_be_consistent():
    with pytest.raises(ValueError, match="strictly increasing"):
        ChunkReadings.from_rows(reading_rows(2)[::-1])
    with pytest.raises(ValueError, match="strictly increasing"):
        ChunkMinutes.from_rows([(5, 1.0, 1.0, None, None, b""), (5, 1.0, 1.0, None, None, b"")])
    with pytest.raises(ValueError, match="8 fields"):
        ChunkReadings.from_rows([row[:7] for row in reading_rows(2)])
    with pytest.raises(ValueError, match="lafmax"):
        ChunkReadings(
            ts_ms=np.arange(2, dtype=np.int64),
            duration=np.ones(2),
            laeq=np.ones(2),
            lafmax=np.ones(3),
            lafmin=np.ones(2),
            spectrum=[None, None],
            seq=[None, None],
            received_at=np.ones(2),
        )


# -- framing and damaged blobs ------------------------------------------------------------------


def streams_of(blob: bytes) -> tuple[tuple[int, ...], list[bytes]]:
    """The header's counts and the seven decompressed streams, read as the module docstring
    lays them out."""
    _, n, m, framing, *sizes = HEADER.unpack_from(blob)
    body, ends = blob[HEADER.size :], np.cumsum([0, *sizes]).tolist()
    decompress = zstandard.ZstdDecompressor().decompress
    if framing == 0:
        return (n, m), [decompress(body[a:b]) if b > a else b"" for a, b in pairwise(ends)]
    whole = decompress(body)
    return (n, m), [whole[a:b] for a, b in pairwise(ends)]


def framed(counts: tuple[int, ...], streams: list[bytes], framing: int) -> bytes:
    compress = zstandard.ZstdCompressor(write_checksum=True).compress
    if framing == 0:
        frames = [compress(s) if s else b"" for s in streams]
        return HEADER.pack(FORMAT_VERSION, *counts, 0, *map(len, frames)) + b"".join(frames)
    return HEADER.pack(FORMAT_VERSION, *counts, 1, *map(len, streams)) + compress(b"".join(streams))


def small_blobs() -> list[bytes]:
    """A small chunk in both framings."""
    rows = reading_rows(
        20, laeq=[60 + i / 10 for i in range(20)], seq=list(range(20)), spectrum=["{}"] * 20
    )
    minutes = [(29_453_760, 6.0e8, 20.0, 62.0, 58.1, struct.pack("<HI", 600, 20_000))]
    blob = encode_chunk(ChunkReadings.from_rows(rows), ChunkMinutes.from_rows(minutes))
    counts, streams = streams_of(blob)
    return [framed(counts, streams, framing) for framing in (0, 1)]


def test_both_framings_decode_to_the_same_chunk():
    split, joined = small_blobs()
    assert [c.rows() for c in decode_chunk(split)] == [c.rows() for c in decode_chunk(joined)]
    assert decode_readings(split).rows() == decode_readings(joined).rows()


def test_the_encoder_picks_the_smaller_framing():
    """One frame for a few readings; a frame per stream for an hour of 1-s readings."""
    rng = np.random.default_rng(3)
    for count, framing in ((60, 1), (3600, 0)):
        laeq = np.round(60 + np.cumsum(rng.normal(0, 1, count)), 1)
        lafmax = np.round(laeq + rng.exponential(1, count), 1)
        lafmin = np.round(laeq - rng.exponential(1, count), 1)
        rows = reading_rows(
            count, laeq=laeq.tolist(), lafmax=lafmax.tolist(), lafmin=lafmin.tolist()
        )
        blob = encode_chunk(ChunkReadings.from_rows(rows), NO_MINUTES)
        assert blob[9] == framing
        assert len(blob) <= len(framed(*streams_of(blob), 1 - framing))


@pytest.mark.parametrize("framing", [0, 1])
def test_truncated_padded_and_unknown_blobs_are_refused(framing):
    blob = small_blobs()[framing]
    for damaged, message in [
        (b"", "empty"),
        (blob[:5], "truncated"),
        (blob[:-1], "truncated"),
        (blob + b"\0", "padded|corrupt"),
        (bytes([FORMAT_VERSION + 1]) + blob[1:], "unknown chunk format version 2"),
        (bytes([0]) + blob[1:], "unknown chunk format version 0"),
    ]:
        for decode in (decode_chunk, decode_readings):
            with pytest.raises(ValueError, match=message):
                decode(damaged)
    for damaged in (b"", blob[:5], bytes([FORMAT_VERSION + 1]) + blob[1:]):
        with pytest.raises(ValueError, match="chunk"):
            chunk_count(damaged)


@pytest.mark.parametrize("framing", [0, 1])
def test_every_damaged_byte_is_refused_or_harmless(framing):
    """Flipping bits anywhere gives ``ValueError`` or, where zstd ignores the bits (a frame's
    window size), the same chunk: never another error or other data."""
    blob = small_blobs()[framing]
    expected = [chunk.rows() for chunk in decode_chunk(blob)]
    for at in range(len(blob)):
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(blob)
            damaged[at] ^= mask
            try:
                got = [chunk.rows() for chunk in decode_chunk(bytes(damaged))]
            except ValueError:
                continue
            assert got == expected, f"byte {at} ^ {mask:#x} decoded to other data"


@settings(max_examples=300, deadline=None)
@given(
    counts=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)) | st.just((3, 1)),
    streams=st.lists(st.binary(max_size=60), min_size=7, max_size=7),
    framing=st.sampled_from([0, 1]),
)
def test_well_framed_garbage_is_refused(counts, streams, framing):
    """Streams that decompress fine (valid frames and checksums) but hold nonsense."""
    with contextlib.suppress(ValueError):
        decode_chunk(framed(counts, streams, framing))


def rich_streams() -> tuple[tuple[int, ...], list[bytes]]:
    """The streams of a chunk that uses every column: NULLs, seq, spectra, both hist forms."""
    count = 40
    rows = reading_rows(
        count,
        duration=[1.0, 0.125] * (count // 2),
        laeq=[55 + (i % 7) / 10 for i in range(count)],
        lafmax=[None if i % 5 == 0 else 60 + i / 100 for i in range(count)],
        lafmin=[50.5] * count,
        spectrum=[None if i % 3 else f'{{"x":{i}}}' for i in range(count)],
        seq=[None if i % 4 == 0 else i for i in range(count)],
        received_at=[1_767_229_200 + i * 1.001 for i in range(count)],
    )
    hist = struct.pack("<HIHI", 550, 1000, 551, 1500)
    minutes = [(29_453_760 + i, 1e8 + i, 60.0, 61.2, None, hist) for i in range(3)]
    blob = encode_chunk(ChunkReadings.from_rows(rows), ChunkMinutes.from_rows(minutes))
    return streams_of(blob)


RICH = rich_streams()


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_tampered_streams_are_refused_or_read(data):
    """A stream changed behind valid checksums (a byte, a cut, an addition) gives
    ``ValueError`` or a chunk that holds together, never another exception."""
    counts, streams = RICH[0], list(RICH[1])
    i = data.draw(st.sampled_from([i for i, s in enumerate(streams) if s]))
    at = data.draw(st.integers(0, len(streams[i]) - 1))
    edit = data.draw(st.sampled_from(["byte", "cut", "grow"]))
    if edit == "byte":
        streams[i] = (
            streams[i][:at] + bytes([data.draw(st.integers(0, 255))]) + streams[i][at + 1 :]
        )
    elif edit == "cut":
        streams[i] = streams[i][:at]
    else:
        streams[i] = (
            streams[i][:at] + data.draw(st.binary(min_size=1, max_size=9)) + streams[i][at:]
        )
    try:
        readings, minutes = decode_chunk(
            framed(counts, streams, data.draw(st.sampled_from([0, 1])))
        )
    except ValueError:
        return
    assert len(readings.rows()) == counts[0]
    assert len(minutes.rows()) == counts[1]
