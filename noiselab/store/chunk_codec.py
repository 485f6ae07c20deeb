"""Codec of compacted raw storage: one sensor's readings and minute roll-ups of one UTC hour in
one compressed BLOB (pure: numpy and zstandard, no I/O).

What comes back
    * ``ts_ms``, ``duration`` (its float64 bit pattern), ``spectrum`` (the same string),
      ``seq`` and every minute roll-up field (energy, seconds, lafmax, lafmin bit for bit, the
      hist bytes verbatim) round-trip exactly.
    * Levels of readings (``laeq``, ``lafmax``, ``lafmin``) are stored at a resolution of
      0.01 dB: a level ``x`` is kept as the integer ``q = round(x·100)`` and read back as
      ``q / 100.0``, so it comes back within 0.005 dB, and a value with at most two decimals (a
      sensor's ``71.53`` parsed from JSON) comes back as the very same float. A level must be
      finite with ``|q| < 2**31``, else :func:`encode_chunk` raises ``ValueError`` (NaN is NULL
      in ``lafmax``/``lafmin``; ``laeq`` has no NULL).
    * ``received_at`` (Unix s) is stored in whole milliseconds and comes back as ``ms / 1000.0``.

How it is made small
    Columns of integers go through :func:`int_column`: the differences of order 0, 1 or 2
    whose values have the least entropy (so steady timestamps, constant durations and one
    ``received_at`` per hour cost almost nothing), divided by their greatest common divisor,
    zigzag-mapped to unsigned, in the narrowest of 1, 2, 4 or 8 bytes, byte-shuffled.
    ``received_at`` is coded as such or as its delay after ``ts_ms``, whichever costs less (a
    few large writes, or a write every second or so). Levels
    are first divided by the chunk's level step (the gcd of all their hundredths: 10 for a
    sensor reporting 0.1 dB). ``laeq`` is then coded as such; ``lafmax`` and ``lafmin`` as
    their distance from ``laeq`` less ``k/16`` of the reading's *swing*, the larger step of
    ``laeq`` to its neighbours: the fast-weighted extremes leave the interval's LAeq further
    when the level is changing. ``k`` (0-16) is fitted per chunk, least entropy again (0 when
    the data show no such relation). Minute roll-up floats that are exact two-decimal values
    (``lafmax``, ``lafmin``, ``seconds`` of 1-s data) are kept as hundredths, others as their
    bit patterns. Histogram records keep their bins (differenced by the column coder) and
    ``ms`` as ``2·ms/1000`` when a whole number of seconds, else ``2·ms + 1``.

    The bytes are grouped into seven streams of like statistics, each compressed alone as one
    zstd frame with its content size and checksum: zstd's entropy coder keeps one table per
    block, and one table for the mixture of all columns measured 0.15 byte/reading larger on
    an hour of 1-s readings. Each frame costs some 15 bytes, though, so a chunk of few
    readings (one a minute) is smaller as one frame of all streams; the encoder writes
    whichever framing is smaller (trying one frame only for up to 64 KiB of streams).

    ``benchmarks/chunk_codec.py`` measures it: an hour of simulated 1-s readings at 0.1 dB
    stored by one write, with its minute roll-ups, takes 1.6 (railway) to 2.1 (motorway) bytes
    per reading, 1.15-1.6 of them for the readings, against 73 in the ``readings`` table; a
    ``received_at`` written every second, to the millisecond, adds 0.7-1.2 (its jitter).

Byte layout (version 1; all integers little-endian)::

    blob    = version:u8  n:u32  m:u32  framing:u8  size[7]:u32  frames
    framing 0: frames = frame[0] ... frame[6], frame i the zstd frame of stream i, size[i]
               bytes long (0 bytes for an empty stream)
    framing 1: frames = one zstd frame of streams 0-6 concatenated, stream i size[i] bytes
    n readings, m minutes; every zstd frame has its content size and a checksum.

    stream 0, readings layout:
              n:u32  level_step:u32  k_max:u8  k_min:u8  received_mode:u8
              ints(ts_ms, n)  ints(duration bits, n)
              ints(received_at ms - ts_ms if received_mode = 1 else received_at ms, n)
              bitmap(lafmax not NULL)  bitmap(lafmin not NULL)  bitmap(seq not NULL)
              ints(seq values, count of seq)  ints(spectrum UTF-8 length + 1 or 0 for NULL, n)
    stream 1: ints(laeq / level_step, n)
    stream 2: ints(lafmax residuals)  ints(lafmin residuals)
    stream 3: the spectrum texts, UTF-8, concatenated
    stream 4, minutes layout:
              m:u32  hist_mode:u8  ints(minute, m)  floats(energy)  floats(seconds)
              bitmap(lafmax not NULL)  floats(lafmax values)
              bitmap(lafmin not NULL)  floats(lafmin values)
              ints(records per hist, m) if hist_mode = 1 else ints(bytes per hist, m)
    stream 5: hist_mode 1: ints(bin of every record)
    stream 6: hist_mode 1: ints(ms code of every record); hist_mode 0: the hist bytes concatenated

    ints(x, count) = order:u8  width:u8  scale:i64  head[order]:i64
                     then count - order values zigzag(Δ^order x / scale), each ``width`` bytes
                     (0 when all are zero), stored byte-shuffled: all first bytes, then all
                     second bytes, ...; head[j] = first value of Δ^j x
    floats(x)      = mode:u8 then ints(x·100) if mode = 1 (exact hundredths)
                     else ints(float64 bit patterns as int64)
    bitmap(flags)  = ceil(count / 8) bytes, numpy ``packbits`` little bit order

    residual of lafmax = (lafmax - laeq) / level_step - (k_max · swing >> 4), of lafmin
    (laeq - lafmin) / level_step - (k_min · swing >> 4), for the readings that have one;
    swing[i] = max(|a[i] - a[i-1]|, |a[i+1] - a[i]|) over a = laeq / level_step, a missing
    neighbour counting 0.
    Histogram records (hist_mode 1, every hist a whole number of 6-byte records) are the
    ``rollup_1m`` hist format: ``(bin: <u2, ms: <u4)``; ms code = ``2·ms/1000`` when ms is a
    multiple of 1000, else ``2·ms + 1``. hist_mode 0 keeps any other bytes as they are.

A decoder rejects an unknown version, a truncated or padded blob and any stream that does not
decompress (checksum), does not parse to its end or holds impossible values, with
``ValueError``.
"""

from __future__ import annotations

import struct
from itertools import pairwise
from typing import Final, cast

import numpy as np
import zstandard

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.store.chunk_columns import (
    LEVEL_LIMIT,
    ColumnReader,
    bitmap,
    costed_column,
    entropy_bits,
    float_column,
    int_column,
)
from noiselab.store.chunk_rows import ChunkMinutes, ChunkReadings, MinuteRow, ReadingRow

__all__ = [
    "FORMAT_VERSION",
    "ChunkMinutes",
    "ChunkReadings",
    "MinuteRow",
    "ReadingRow",
    "chunk_count",
    "decode_chunk",
    "decode_minute_sums",
    "decode_readings",
    "encode_chunk",
]

FORMAT_VERSION: Final = 1
"""The version byte that starts every blob this module writes."""
ZSTD_LEVEL: Final = 19
"""Default zstd level (see ``benchmarks/chunk_codec.py``): decoding is as fast at any level."""


_STREAMS = 7
_READING_STREAMS = 4  # streams 0-3 hold the readings, 4-6 the minutes
_HEADER = struct.Struct(f"<BIIB{_STREAMS}I")
_SPLIT, _JOINED = 0, 1  # framing: a zstd frame per stream, or one for all
_MAX_STREAM_BYTES = 1 << 28
"""Largest uncompressed stream written or read (256 MiB), a guard against corrupt sizes."""
_JOIN_LIMIT = 1 << 16
"""Streams of more bytes in all are not tried as one frame: the frames' overhead no longer
matters, and compressing everything twice would (spectra take 0.1-0.3 s an hour at level 19)."""
_MS_LIMIT = float(1 << 53)  # |received_at| in ms must stay below (float64 integers are exact)
_SWING_STEPS = 16  # lafmax/lafmin predictions use k/16 of the swing, k = 0..16
_MinuteSums = tuple[IntArray, FloatArray, FloatArray, FloatArray]
_RECORD = np.dtype([("bin", "<u2"), ("ms", "<u4")])
"""A histogram record, as ``noiselab.store.sqlite_rollup.HIST_DTYPE`` defines it today; the
format keeps its own copy so that its meaning cannot change under stored blobs."""


# -- encoding ------------------------------------------------------------------------------------


def encode_chunk(
    readings: ChunkReadings, minutes: ChunkMinutes, *, level: int = ZSTD_LEVEL
) -> bytes:
    """The BLOB of one sensor-hour (layout in the module docstring), zstd at ``level``.

    Raises ``ValueError`` naming the value when a level is infinite or too large for
    hundredths of a dB in 32 bits, ``laeq`` is NaN, ``received_at`` is not finite, a ``seq``
    does not fit 64 bits or a stream would exceed 256 MiB: such an hour cannot be compacted.
    """
    streams = (*_reading_streams(readings), *_minute_streams(minutes))
    counts = (FORMAT_VERSION, len(readings), len(minutes))
    frames = [_compress(stream, level) for stream in streams]
    split = _HEADER.pack(*counts, _SPLIT, *map(len, frames)) + b"".join(frames)
    whole = b"".join(streams)
    if len(whole) > _JOIN_LIMIT:
        return split
    joined = _HEADER.pack(*counts, _JOINED, *map(len, streams)) + _compress(whole, level)
    return split if len(split) <= len(joined) else joined


def _compress(data: bytes, level: int) -> bytes:
    """One zstd frame with content size and checksum; nothing for no data."""
    if not data:
        return b""
    if len(data) > _MAX_STREAM_BYTES:
        raise ValueError(f"a chunk stream of {len(data):,} bytes exceeds {_MAX_STREAM_BYTES:,}")
    compressor = zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True)
    return compressor.compress(data)


def _reading_streams(r: ChunkReadings) -> tuple[bytes, bytes, bytes, bytes]:
    has_max, has_min = ~np.isnan(r.lafmax), ~np.isnan(r.lafmin)
    laeq = _hundredths("laeq", r.laeq, r.ts_ms)
    lafmax = _hundredths("lafmax", r.lafmax[has_max], r.ts_ms[has_max])
    lafmin = _hundredths("lafmin", r.lafmin[has_min], r.ts_ms[has_min])
    step = _gcd(np.concatenate((laeq, lafmax, lafmin)))
    a = laeq // step
    swing = _swing(a)
    k_max, rest_max = _fit_swing(lafmax // step - a[has_max], swing[has_max])
    k_min, rest_min = _fit_swing(a[has_min] - lafmin // step, swing[has_min])
    received_mode, received = _received_column(_milliseconds(r.received_at, r.ts_ms), r.ts_ms)
    has_seq = np.array([s is not None for s in r.seq], dtype=bool)
    texts = [None if s is None else s.encode("utf-8", "surrogatepass") for s in r.spectrum]
    lengths = np.array([0 if t is None else len(t) + 1 for t in texts], dtype=np.int64)
    layout = b"".join(
        (
            struct.pack("<IIBBB", len(r), step, k_max, k_min, received_mode),
            int_column(r.ts_ms),
            int_column(r.duration.view(np.int64)),
            received,
            bitmap(has_max),
            bitmap(has_min),
            bitmap(has_seq),
            int_column(_seq_values(r.seq)),
            int_column(lengths),
        )
    )
    spectra = b"".join(t for t in texts if t is not None)
    return layout, int_column(a), int_column(rest_max) + int_column(rest_min), spectra


def _hundredths(name: str, levels: FloatArray, ts_ms: IntArray) -> IntArray:
    """``round(level·100)`` as int64; ``ValueError`` naming the first level that is not finite or
    whose hundredths reach 2**31."""
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.rint(levels * 100.0)
    bad = ~(np.abs(q) < LEVEL_LIMIT)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"cannot compact {name} = {float(levels[i])!r} dB at ts_ms {int(ts_ms[i])}: "
            "levels are stored as hundredths of a dB, finite and below 2**31 in magnitude"
        )
    return q.astype(np.int64)


def _milliseconds(received_at: FloatArray, ts_ms: IntArray) -> IntArray:
    """``received_at`` (s) in whole ms; ``ValueError`` for one that is not finite or huge."""
    with np.errstate(over="ignore", invalid="ignore"):
        ms = np.rint(received_at * 1000.0)
    bad = ~(np.abs(ms) < _MS_LIMIT)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"cannot compact received_at = {float(received_at[i])!r} at ts_ms {int(ts_ms[i])}"
        )
    return ms.astype(np.int64)


def _received_column(received_ms: IntArray, ts_ms: IntArray) -> tuple[int, bytes]:
    """``(mode, ints)`` of ``received_at``: mode 1 codes ``received_ms - ts_ms`` (the delay of
    readings stored as they come, each write a second or so after the previous one), mode 0
    ``received_ms`` itself (readings stored in a few large writes), whichever costs less."""
    as_is, delay = costed_column(received_ms), costed_column(received_ms - ts_ms)
    return (1, delay[1]) if delay[0] < as_is[0] else (0, as_is[1])


def _seq_values(seq: list[int | None]) -> IntArray:
    values = [s for s in seq if s is not None]
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError as exc:
        raise ValueError(f"cannot compact a seq outside 64-bit integers: {exc}") from exc


def _gcd(values: IntArray) -> int:
    """The greatest common divisor of ``values`` (all below 2**31 in magnitude), 1 if all 0."""
    return max(int(np.gcd.reduce(values)) if values.size else 0, 1)


def _swing(a: IntArray) -> IntArray:
    """Per reading, the larger absolute step of ``a`` to its neighbours (0 for none)."""
    if a.size == 0:
        return a
    step = np.abs(np.diff(a))
    zero = np.zeros(1, dtype=np.int64)
    swing: IntArray = np.maximum(np.concatenate((zero, step)), np.concatenate((step, zero)))
    return swing


def _fit_swing(offset: IntArray, swing: IntArray) -> tuple[int, IntArray]:
    """The ``k`` in 0-16 for which ``offset - (k·swing >> 4)`` has the least entropy, and those
    residuals."""
    residuals = [offset - ((k * swing) >> 4) for k in range(_SWING_STEPS + 1)]
    costs = [entropy_bits(r) for r in residuals]
    k = int(np.argmin(costs))  # the first (smallest) k on ties
    return k, residuals[k]


def _minute_streams(m: ChunkMinutes) -> tuple[bytes, bytes, bytes]:
    has_max, has_min = ~np.isnan(m.lafmax), ~np.isnan(m.lafmin)
    sizes = np.array([len(h) for h in m.hist], dtype=np.int64)
    joined = b"".join(m.hist)
    if len(joined) > _MAX_STREAM_BYTES:
        raise ValueError(f"hists of {len(joined):,} bytes exceed {_MAX_STREAM_BYTES:,}")
    records = bool((sizes % _RECORD.itemsize == 0).all())
    layout = b"".join(
        (
            struct.pack("<IB", len(m), records),
            int_column(m.minute),
            float_column(m.energy),
            float_column(m.seconds),
            bitmap(has_max),
            float_column(m.lafmax[has_max]),
            bitmap(has_min),
            float_column(m.lafmin[has_min]),
            int_column(sizes // _RECORD.itemsize if records else sizes),
        )
    )
    if not records:
        return layout, b"", joined
    hist = np.frombuffer(joined, dtype=_RECORD)
    ms = hist["ms"].astype(np.int64)
    whole = ms % 1000 == 0
    code = np.where(whole, (ms // 1000) << 1, (ms << 1) | 1)
    return layout, int_column(hist["bin"].astype(np.int64)), int_column(code)


# -- decoding ------------------------------------------------------------------------------------


def chunk_count(blob: bytes) -> int:
    """The number of readings in ``blob``, from its header (nothing else is checked)."""
    return _header(blob)[0]


def decode_readings(blob: bytes) -> ChunkReadings:
    """The readings of ``blob`` (the minutes are not decompressed unless one frame holds all)."""
    n, _, streams = _streams(blob, _READING_STREAMS)
    return _readings(n, streams)


def decode_minute_sums(blob: bytes) -> _MinuteSums:
    """The minutes' ``minute``, ``energy``, ``seconds`` and ``lafmax`` (NaN for NULL) of
    ``blob``: neither the readings (unless one frame holds all) nor the histograms decoded."""
    _, m, streams = _streams(blob, _READING_STREAMS + 1, first=_READING_STREAMS)
    return _minute_columns(m, streams[_READING_STREAMS])[2]


def decode_chunk(blob: bytes) -> tuple[ChunkReadings, ChunkMinutes]:
    """The readings and minutes of ``blob``; ``ValueError`` for a blob this code cannot read."""
    n, m, streams = _streams(blob, _STREAMS)
    return _readings(n, streams[:_READING_STREAMS]), _minutes(m, streams[_READING_STREAMS:])


def _header(blob: bytes) -> tuple[int, int, int, list[int]]:
    """``(n, m, framing, sizes)`` of the blob's header."""
    if not blob:
        raise ValueError("empty chunk blob")
    if blob[0] != FORMAT_VERSION:
        raise ValueError(f"unknown chunk format version {blob[0]} (this code reads 1)")
    if len(blob) < _HEADER.size:
        raise ValueError(f"truncated chunk: {len(blob)} bytes, shorter than its header")
    _, n, m, framing, *sizes = _HEADER.unpack_from(blob)
    if framing not in (_SPLIT, _JOINED):
        raise ValueError(f"corrupt chunk: unknown framing {framing}")
    return n, m, framing, sizes


def _streams(blob: bytes, count: int, first: int = 0) -> tuple[int, int, list[bytes]]:
    """``(n, m, streams)``: the counts and the first ``count`` streams, decompressed (those
    before ``first`` are left empty where each stream is a frame of its own)."""
    n, m, framing, sizes = _header(blob)
    body = memoryview(blob)[_HEADER.size :]
    ends = np.cumsum([0, *sizes]).tolist()
    if framing == _SPLIT:
        if ends[-1] != len(body):
            raise ValueError(
                f"truncated or padded chunk: {len(blob)} bytes, the header says "
                f"{_HEADER.size + ends[-1]}"
            )
        frames = [body[a:b] for a, b in pairwise(ends[: count + 1])]
        out = [b"" if i < first else _decompress(f, f"stream {i}") for i, f in enumerate(frames)]
        return n, m, out
    data = _decompress(body, "the frame")
    if ends[-1] != len(data):
        raise ValueError("corrupt chunk: the stream sizes do not add up to the frame's content")
    return n, m, [data[a:b] for a, b in pairwise(ends[: count + 1])]


def _decompress(frame: memoryview, what: str) -> bytes:
    if not frame:
        return b""
    try:
        params = zstandard.get_frame_parameters(frame)
        size = params.content_size
        if not (params.has_checksum and 0 < size <= _MAX_STREAM_BYTES):
            raise ValueError(f"corrupt chunk: {what} has a bad frame header")
        data = zstandard.ZstdDecompressor().decompress(
            frame, max_output_size=size, allow_extra_data=False
        )
    except zstandard.ZstdError as exc:
        raise ValueError(f"truncated or corrupt chunk: {what} does not decompress: {exc}") from exc
    if len(data) != size:
        raise ValueError(f"corrupt chunk: {what} decompresses to a wrong size")
    return data


def _readings(n: int, streams: list[bytes]) -> ChunkReadings:
    layout = ColumnReader(streams[0], 0)
    layout.check_count(n, bitmaps=3)
    count, step, k_max, k_min, received_mode = layout.unpack("IIBBB")
    if count != n or received_mode not in (0, 1):
        raise layout.fail(f"{count} readings (header: {n}), received_at mode {received_mode}")
    ts_ms = layout.ints(n)
    duration = layout.ints(n).view(np.float64)
    received_at = (layout.ints(n) + ts_ms * np.int64(received_mode)) / 1000.0
    has_max, has_min, has_seq = layout.bitmap(n), layout.bitmap(n), layout.bitmap(n)
    seq_values = layout.ints(int(has_seq.sum()))
    lengths = layout.ints(n)
    layout.done()
    levels = ColumnReader(streams[1], 1)
    a = levels.ints(n)
    levels.done()
    extremes = ColumnReader(streams[2], 2)
    rest_max, rest_min = extremes.ints(int(has_max.sum())), extremes.ints(int(has_min.sum()))
    extremes.done()
    swing = _swing(a)
    lafmax = np.full(n, np.nan)
    lafmax[has_max] = _levels(a[has_max] + ((k_max * swing[has_max]) >> 4) + rest_max, step)
    lafmin = np.full(n, np.nan)
    lafmin[has_min] = _levels(a[has_min] - ((k_min * swing[has_min]) >> 4) - rest_min, step)
    seq = np.full(n, None, dtype=object)
    seq[has_seq] = seq_values.tolist()
    return ChunkReadings(
        ts_ms=ts_ms,
        duration=duration,
        laeq=_levels(a, step),
        lafmax=lafmax,
        lafmin=lafmin,
        spectrum=_texts(lengths, streams[3]),
        seq=cast("list[int | None]", seq.tolist()),
        received_at=received_at,
    )


def _levels(units: IntArray, step: int) -> FloatArray:
    """dB from levels in units of ``step`` hundredths."""
    result: FloatArray = (units * np.int64(step)) / 100.0
    return result


def _texts(lengths: IntArray, data: bytes) -> list[str | None]:
    """The spectrum strings: ``lengths`` holds UTF-8 length + 1, 0 for ``None``."""
    bad = (lengths < 0) | (lengths > _MAX_STREAM_BYTES + 1)
    if bad.any() or int(np.maximum(lengths - 1, 0).sum()) != len(data):
        raise ValueError("corrupt chunk: spectrum lengths do not add up to the text")
    if not lengths.any():
        return [None] * lengths.size
    ends = np.cumsum(np.maximum(lengths - 1, 0)).tolist()
    try:
        return [
            None if size == 0 else data[end - size + 1 : end].decode("utf-8", "surrogatepass")
            for size, end in zip(lengths.tolist(), ends, strict=True)
        ]
    except UnicodeDecodeError as exc:
        raise ValueError(f"corrupt chunk: spectrum text is not UTF-8: {exc}") from exc


def _minute_columns(m: int, stream: bytes) -> tuple[ColumnReader, int, _MinuteSums]:
    """The minutes' layout stream read as far as LAFmax, its hist mode, and the columns."""
    layout = ColumnReader(stream, _READING_STREAMS)
    layout.check_count(m, bitmaps=2)
    count, records = layout.unpack("IB")
    if count != m or records not in (0, 1):
        raise layout.fail(f"{count} minutes (header: {m}), hist mode {records}")
    minute = layout.ints(m)
    energy, seconds = layout.floats(m), layout.floats(m)
    lafmax = np.full(m, np.nan)
    has_max = layout.bitmap(m)
    lafmax[has_max] = layout.floats(int(has_max.sum()))
    return layout, records, (minute, energy, seconds, lafmax)


def _minutes(m: int, streams: list[bytes]) -> ChunkMinutes:
    layout, records, (minute, energy, seconds, lafmax) = _minute_columns(m, streams[0])
    lafmin = np.full(m, np.nan)
    has_min = layout.bitmap(m)
    lafmin[has_min] = layout.floats(int(has_min.sum()))
    sizes = layout.ints(m)  # records per hist in hist mode 1, bytes in mode 0
    layout.done()
    if not ((sizes >= 0) & (sizes <= _MAX_STREAM_BYTES)).all():
        raise layout.fail("hist size out of range")
    if records:
        sizes = sizes * _RECORD.itemsize
        if int(sizes.sum()) > _MAX_STREAM_BYTES:
            raise layout.fail("hists too large")
        joined = _records(int(sizes.sum()) // _RECORD.itemsize, streams[1], streams[2])
    else:
        joined = streams[2]
        if streams[1] or int(sizes.sum()) != len(joined):
            raise layout.fail("hist sizes do not add up to the hist bytes")
    ends = np.cumsum(sizes).tolist()
    hist = [joined[end - size : end] for size, end in zip(sizes.tolist(), ends, strict=True)]
    return ChunkMinutes(minute, energy, seconds, lafmax, lafmin, hist)


def _records(count: int, bins_stream: bytes, ms_stream: bytes) -> bytes:
    """The concatenated histogram records from their bin and ms-code columns."""
    bins_reader, ms_reader = ColumnReader(bins_stream, 5), ColumnReader(ms_stream, 6)
    bins, code = bins_reader.ints(count), ms_reader.ints(count)
    bins_reader.done()
    ms_reader.done()
    ms = np.where(code & 1, code >> 1, (code >> 1) * 1000)
    if ((bins < 0) | (bins > 0xFFFF) | (ms < 0) | (ms > 0xFFFFFFFF)).any():
        raise ValueError("corrupt chunk: histogram record out of range")
    records = np.empty(count, dtype=_RECORD)
    records["bin"] = bins
    records["ms"] = ms
    return records.tobytes()
