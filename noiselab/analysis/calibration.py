"""Field calibrations and calibrator-tone checks of a sensor, and the drift between them: numpy
in, numbers out.

A calibration (a field visit with an acoustic calibrator, or a sensor's own tone check) plays a
known reference level ``reference_db`` (e.g. 94.0 dB re 20 µPa at 1 kHz) into the microphone
and notes the level the sensor reads, ``before_db``; at a field visit the sensor may then be
adjusted so that it reads ``after_db``. A tone check adjusts nothing (``after_db`` unknown,
``NaN`` here). All levels in dB.

Conventions, per calibration ``i`` (ordered by time):

- deviation ``dᵢ = before_dbᵢ - reference_dbᵢ``: how far off the sensor was found;
- offset left ``oᵢ = after_dbᵢ - reference_dbᵢ``, or ``dᵢ`` when ``after_dbᵢ`` is unknown:
  how far off it was when the calibration ended;
- drift from ``i`` to ``i+1``: ``Δᵢ = dᵢ₊₁ - oᵢ``, rounded to 0.01 dB (the resolution every
  answer reports, so floating-point noise such as 94.6 - 94.1 never decides): how far the
  sensor moved while it measured between the two;
- the data of ``[tsᵢ, tsᵢ₊₁)`` is *calibration uncertain* when ``|Δᵢ| > 0.5 dB``; exactly
  0.5 dB is not.

This is the practice of IEC 61672-1 and ISO 1996-2 (clause 5, "Calibration"): a sound level
meter is checked with a calibrator before and after each series of measurements, and a series
whose two checks differ by more than 0.5 dB is not reported as valid. A fixed monitor's series
is the time between two consecutive checks.

Worked value: field calibration 1 reads 94.6 dB on a 94.0 dB reference and is adjusted to
94.0 (``o₁ = 0.0``); tone check 2 reads 94.8 dB (``d₂ = +0.8``): ``Δ₁ = +0.8 dB``, so the data
between them is calibration uncertain. A tone check 3 reading 94.9 dB then drifts
``Δ₂ = 0.9 - 0.8 = +0.1 dB`` from check 2 (nothing was adjusted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.decibels import DB_DECIMALS

__all__ = [
    "DRIFT_TOLERANCE_DB",
    "DriftSpan",
    "deviations",
    "drifts",
    "exceeds_tolerance",
    "offsets_left",
    "uncertain_spans",
]

DRIFT_TOLERANCE_DB = 0.5
"""Largest drift between two consecutive calibrations that leaves the data between them
valid, dB (IEC 61672-1 / ISO 1996-2 practice of a check before and after measurements)."""


@dataclass(frozen=True, slots=True)
class DriftSpan:
    """The data of ``[start, end)`` (Unix s, UTC) lies between calibrations ``first`` and
    ``first + 1`` (positions in the series given), which drifted ``drift_db`` apart."""

    start: float
    end: float
    first: int
    drift_db: float


def _array(name: str, values: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D series")
    return array


def deviations(
    reference_db: Sequence[float] | FloatArray, before_db: Sequence[float] | FloatArray
) -> FloatArray:
    """``dᵢ = before_dbᵢ - reference_dbᵢ`` (dB) of each calibration."""
    reference, before = _array("reference_db", reference_db), _array("before_db", before_db)
    if reference.shape != before.shape:
        raise ValueError("reference_db and before_db: need equal lengths")
    return before - reference


def offsets_left(
    reference_db: Sequence[float] | FloatArray,
    before_db: Sequence[float] | FloatArray,
    after_db: Sequence[float] | FloatArray,
) -> FloatArray:
    """``oᵢ = after_dbᵢ - reference_dbᵢ`` (dB), or the deviation ``dᵢ`` where ``after_dbᵢ``
    is ``NaN`` (nothing adjusted, e.g. a tone check)."""
    deviation = deviations(reference_db, before_db)
    after = _array("after_db", after_db)
    if after.shape != deviation.shape:
        raise ValueError("after_db: needs the length of reference_db")
    reference = _array("reference_db", reference_db)
    return np.where(np.isnan(after), deviation, after - reference)


def drifts(
    reference_db: Sequence[float] | FloatArray,
    before_db: Sequence[float] | FloatArray,
    after_db: Sequence[float] | FloatArray,
) -> FloatArray:
    """``Δᵢ = dᵢ₊₁ - oᵢ`` (dB, rounded to 0.01 dB) between each calibration and the next, in
    the order given: ``n - 1`` values for ``n`` calibrations."""
    deviation = deviations(reference_db, before_db)
    left = offsets_left(reference_db, before_db, after_db)
    return np.round(deviation[1:] - left[:-1], DB_DECIMALS)


def exceeds_tolerance(drift_db: float) -> bool:
    """Whether a drift (dB) makes the data between its two calibrations uncertain:
    ``|Δ| > 0.5 dB`` (exactly 0.5 dB does not). ``NaN`` never does."""
    return math.isfinite(drift_db) and abs(round(drift_db, DB_DECIMALS)) > DRIFT_TOLERANCE_DB


def uncertain_spans(
    ts: Sequence[float] | FloatArray,
    reference_db: Sequence[float] | FloatArray,
    before_db: Sequence[float] | FloatArray,
    after_db: Sequence[float] | FloatArray,
) -> list[DriftSpan]:
    """The spans ``[tsᵢ, tsᵢ₊₁)`` (Unix s) between consecutive calibrations whose drift
    exceeds the tolerance, in time order. ``ts`` must not decrease; two calibrations at the
    same instant enclose no data and give no span."""
    times = _array("ts", ts)
    if times.size == 0 and len(reference_db) == 0:
        return []
    drift = drifts(reference_db, before_db, after_db)
    if times.shape[0] != drift.shape[0] + 1:
        raise ValueError("ts: needs the length of reference_db")
    if np.any(np.diff(times) < 0):
        raise ValueError("ts: calibrations must be in time order")
    return [
        DriftSpan(float(times[i]), float(times[i + 1]), i, float(drift[i]))
        for i in range(drift.shape[0])
        if times[i] < times[i + 1] and exceeds_tolerance(float(drift[i]))
    ]
