"""Long-term indicators over many local dates (a month, a year) and the hours above a
guideline value.

A long-term period level is the energetic mean over every measured second of that period in
the dates taken together, ``L_p = 10·log10(Σ Eᵢ / Σ tᵢ)``, not the mean of the daily levels:
a date with half its day measured weighs half. The long-term Lden is the composite of the
long-term Lday, Levening and Lnight with the period weights and penalties (EU Directive
2002/49/EC Annex I: "the A-weighted long-term average sound level ... determined over all the
day periods of a year"). Example: a day period fully measured at 60 dB and one half measured
at 70 dB give Lday ``10·log10((12·10^6 + 6·10^7) / 18)`` = 66.02 dB, where the mean of the two
daily values would give 67.40 dB.

An hour is "above the guideline value" when its rating level, LAeq,1h plus the Lden penalty of
its period (0, 5 or 10 dB), is above the Lden guideline value: the hour-by-hour reading of
what Lden sums, so a constant level at the guideline value keeps every day hour below it and
every evening and night hour above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.periods import DANISH_PENALTIES, PeriodTable, composite_rating_level

__all__ = ["LongTerm", "hour_penalties", "hours_above", "long_term"]

_DEN = (PeriodTable.DAY, PeriodTable.EVENING, PeriodTable.NIGHT)


@dataclass(frozen=True, slots=True)
class LongTerm:
    """Long-term indicators of a set of dates (dB; ``None`` where a period has no data;
    ``lden`` needs all three). ``measured_s`` and ``real_s`` are the measured and real
    seconds of the dates' day, evening and night periods; ``coverage`` their ratio (0 without
    data)."""

    lday: float | None
    levening: float | None
    lnight: float | None
    lden: float | None
    laeq24: float | None
    measured_s: float
    real_s: float

    @property
    def coverage(self) -> float:
        """Measured over real seconds of the periods, at most 1."""
        return min(1.0, self.measured_s / self.real_s) if self.real_s > 0 else 0.0


def long_term(
    table: PeriodTable,
    rows: slice = slice(None),
    penalties: tuple[float, float, float] = DANISH_PENALTIES,
) -> LongTerm:
    """The long-term indicators of the dates ``rows`` (a slice of the table's dates; all by
    default). Energies are summed relative to the table's common ``ref``."""
    energy = table.energy[rows].sum(axis=0)
    measured = table.measured[rows].sum(axis=0)
    real = table.real[rows].sum(axis=0)
    level = [
        table.ref + 10.0 * math.log10(energy[i] / measured[i]) if measured[i] > 0 else None
        for i in range(energy.size)
    ]
    den = [level[i] for i in _DEN]
    lden = None
    if all(value is not None for value in den):
        lden = composite_rating_level(
            [v for v in den if v is not None], table.hours.tolist(), penalties
        )
    return LongTerm(
        lday=level[PeriodTable.DAY],
        levening=level[PeriodTable.EVENING],
        lnight=level[PeriodTable.NIGHT],
        lden=lden,
        laeq24=level[PeriodTable.FULL_DAY],
        measured_s=float(sum(measured[i] for i in _DEN)),
        real_s=float(sum(real[i] for i in _DEN)),
    )


def hour_penalties(
    starts: npt.ArrayLike,
    edges: FloatArray,
    penalties: tuple[float, float, float] = DANISH_PENALTIES,
) -> FloatArray:
    """The Lden penalty (dB) of the period each hour starting at ``starts`` (Unix s) lies in,
    given a :class:`PeriodTable`'s segment ``edges``; NaN outside them. The hours must not
    straddle a period edge (local whole hours with whole-hour period edges do not)."""
    t = np.asarray(starts, dtype=np.float64)
    segment = np.searchsorted(edges, t, side="right") - 1
    day, evening, night = penalties
    # Segments per date: [00, day start) night, day, evening, [evening end, 24) night.
    by_kind = np.array([night, day, evening, night])
    out = np.full(t.shape, np.nan)
    inside = (segment >= 0) & (segment < edges.size - 1)
    out[inside] = by_kind[segment[inside] % 4]
    return out


def hours_above(levels: npt.ArrayLike, penalties: npt.ArrayLike, guideline_db: float) -> int:
    """Hours whose rating level ``LAeq,1h + penalty`` (dB) is above ``guideline_db`` (strictly:
    a level at the value is not above it); NaN levels or penalties never count."""
    rated = np.asarray(levels, dtype=np.float64) + np.asarray(penalties, dtype=np.float64)
    return int(np.count_nonzero(rated > guideline_db))
