"""One sensor-hour of readings and of minute roll-up rows as columns: what a chunk holds
(:mod:`noiselab.store.chunk_codec` turns them into bytes and back).

Units: ``ts_ms`` Unix ms, durations s, levels dB (NaN for a NULL ``lafmax``/``lafmin``),
``received_at`` Unix s; minutes are Unix minute numbers with the sums of ``rollup_1m``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray

__all__ = ["ChunkMinutes", "ChunkReadings", "MinuteRow", "ReadingRow"]

ReadingRow = tuple[int, float, float, float | None, float | None, str | None, int | None, float]
"""``(ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq, received_at)`` as sqlite3 returns
them from ``readings`` (``None`` for NULL)."""
MinuteRow = tuple[int, float, float, float | None, float | None, bytes]
"""``(minute, energy, seconds, lafmax, lafmin, hist)``: a ``rollup_1m`` row without sensor_id."""


@dataclass(frozen=True, slots=True, eq=False)
class ChunkReadings:
    """One sensor's readings of one hour as columns, by ``ts_ms`` (strictly increasing).

    ``ts_ms``: start, Unix ms (int64). ``duration``: s. ``laeq``, ``lafmax``, ``lafmin``: dB,
    NaN for a NULL ``lafmax``/``lafmin``. ``spectrum``: the stored JSON text or ``None``.
    ``seq``: the sensor's sequence number or ``None``. ``received_at``: Unix s of the write
    that stored the reading.
    """

    ts_ms: IntArray
    duration: FloatArray
    laeq: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    spectrum: list[str | None]
    seq: list[int | None]
    received_at: FloatArray

    def __post_init__(self) -> None:
        n = _check_column("ts_ms", self.ts_ms, np.int64, None)
        for name in ("duration", "laeq", "lafmax", "lafmin", "received_at"):
            _check_column(name, getattr(self, name), np.float64, n)
        if len(self.spectrum) != n or len(self.seq) != n:
            raise ValueError(f"spectrum and seq must hold {n} values like ts_ms")
        if not (self.ts_ms[1:] > self.ts_ms[:-1]).all():
            raise ValueError("ts_ms must be strictly increasing")

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> ChunkReadings:
        """Columns of ``(ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq, received_at)``
        rows (see :data:`ReadingRow`), which must come by ``ts_ms``."""
        ts, duration, laeq, lafmax, lafmin, spectrum, seq, received = _columns(rows, 8)
        return cls(
            ts_ms=np.array(ts, dtype=np.int64),
            duration=_floats_of(duration),
            laeq=_floats_of(laeq),
            lafmax=_floats_of(lafmax),
            lafmin=_floats_of(lafmin),
            spectrum=list(spectrum),
            seq=list(seq),
            received_at=_floats_of(received),
        )

    def rows(self) -> list[ReadingRow]:
        """The readings as :data:`ReadingRow` tuples of Python values, NaN levels as ``None``."""
        rows = zip(
            self.ts_ms.tolist(),
            self.duration.tolist(),
            self.laeq.tolist(),
            _nullable(self.lafmax),
            _nullable(self.lafmin),
            self.spectrum,
            self.seq,
            self.received_at.tolist(),
            strict=True,
        )
        return cast("list[ReadingRow]", list(rows))

    def take(self, index: npt.NDArray[np.intp]) -> ChunkReadings:
        """The readings at ``index`` (ascending, so ``ts_ms`` stays increasing)."""
        picked = index.tolist()
        return ChunkReadings(
            ts_ms=self.ts_ms[index],
            duration=self.duration[index],
            laeq=self.laeq[index],
            lafmax=self.lafmax[index],
            lafmin=self.lafmin[index],
            spectrum=[self.spectrum[i] for i in picked],
            seq=[self.seq[i] for i in picked],
            received_at=self.received_at[index],
        )

    @classmethod
    def merged(cls, parts: Sequence[ChunkReadings]) -> ChunkReadings:
        """The readings of ``parts`` (no ``ts_ms`` in two of them) in one, by ``ts_ms``."""
        if len(parts) == 1:
            return parts[0]
        ts_ms = np.concatenate([p.ts_ms for p in parts])
        order = np.argsort(ts_ms, kind="stable")
        picked = order.tolist()
        spectrum = [s for p in parts for s in p.spectrum]
        seq = [k for p in parts for k in p.seq]
        return cls(
            ts_ms=ts_ms[order],
            duration=np.concatenate([p.duration for p in parts])[order],
            laeq=np.concatenate([p.laeq for p in parts])[order],
            lafmax=np.concatenate([p.lafmax for p in parts])[order],
            lafmin=np.concatenate([p.lafmin for p in parts])[order],
            spectrum=[spectrum[i] for i in picked],
            seq=[seq[i] for i in picked],
            received_at=np.concatenate([p.received_at for p in parts])[order],
        )


@dataclass(frozen=True, slots=True, eq=False)
class ChunkMinutes:
    """The ``rollup_1m`` rows of the same sensor and hour as columns, by ``minute``.

    ``minute``: ``floor(Unix s / 60)`` (int64, strictly increasing). ``energy``:
    Σ overlap_s·10^(LAeq/10). ``seconds``: Σ overlap_s. ``lafmax``, ``lafmin``: dB, NaN for
    NULL. ``hist``: the histogram BLOB (see ``noiselab.store.sqlite_rollup``).
    """

    minute: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    hist: list[bytes]

    def __post_init__(self) -> None:
        n = _check_column("minute", self.minute, np.int64, None)
        for name in ("energy", "seconds", "lafmax", "lafmin"):
            _check_column(name, getattr(self, name), np.float64, n)
        if len(self.hist) != n:
            raise ValueError(f"hist must hold {n} values like minute")
        if not (self.minute[1:] > self.minute[:-1]).all():
            raise ValueError("minute must be strictly increasing")

    def __len__(self) -> int:
        return int(self.minute.size)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> ChunkMinutes:
        """Columns of ``(minute, energy, seconds, lafmax, lafmin, hist)`` rows (see
        :data:`MinuteRow`), which must come by ``minute``."""
        minute, energy, seconds, lafmax, lafmin, hist = _columns(rows, 6)
        return cls(
            minute=np.array(minute, dtype=np.int64),
            energy=_floats_of(energy),
            seconds=_floats_of(seconds),
            lafmax=_floats_of(lafmax),
            lafmin=_floats_of(lafmin),
            hist=[bytes(h) for h in hist],
        )

    def rows(self) -> list[MinuteRow]:
        """The minutes as :data:`MinuteRow` tuples of Python values, NaN as ``None``."""
        rows = zip(
            self.minute.tolist(),
            self.energy.tolist(),
            self.seconds.tolist(),
            _nullable(self.lafmax),
            _nullable(self.lafmin),
            self.hist,
            strict=True,
        )
        return cast("list[MinuteRow]", list(rows))


def _check_column(name: str, values: object, dtype: type[np.generic], n: int | None) -> int:
    """The length of a 1-D column of ``dtype``; ``ValueError`` if it is not one or not ``n``."""
    if not isinstance(values, np.ndarray) or values.dtype != dtype or values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D {np.dtype(dtype).name} array")
    if n is not None and values.size != n:
        raise ValueError(f"{name} holds {values.size} values, not {n}")
    return int(values.size)


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[tuple[Any, ...]]:
    columns = list(zip(*rows, strict=True))
    if not columns:
        return [()] * width
    if len(columns) != width:
        raise ValueError(f"rows must have {width} fields, not {len(columns)}")
    return columns


def _floats_of(values: Sequence[float | None]) -> FloatArray:
    """float64 column, ``None`` as NaN."""
    return np.array(values, dtype=np.float64).reshape(-1)


def _nullable(values: FloatArray) -> list[float | None]:
    """Python floats, NaN as ``None``."""
    objects = values.astype(object)
    objects[np.isnan(values)] = None
    return cast("list[float | None]", objects.tolist())
