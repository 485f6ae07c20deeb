"""The rules a sensor reading must meet, and the validator that says which ones a refused
reading breaks.

:mod:`noiselab.ingest.message` decides acceptance with typed decoding (fast); when it refuses a
reading, :func:`problems` lists every broken rule in field order, in words a sensor owner can
act on. Both use the limits below. Units: ``ts`` Unix seconds (UTC) or RFC 3339 with an offset;
levels dB re 20 µPa; ``duration`` s.

Consistency (physically impossible readings): over an interval of ``T`` s the fast-weighted
maximum cannot lie more than ``10·log10(1 + τ/T)`` dB below the equivalent level (τ = 0.125 s,
IEC 61672-1 time weighting F; see :func:`lafmax_shortfall_db`), and exceedance levels fall as
the percentage rises (L10 >= L50 >= L90). Each is allowed :data:`LEVEL_ORDER_TOLERANCE_DB` more
for the 0.1 dB rounding of sensors; a reading breaking one is refused with a reason starting
with its code (:mod:`noiselab.ingest.reasons`). LAFmin is not checked against LAeq: the
fast-weighted level decays at 34.7 dB/s, so after a loud moment it can stay above a quiet
interval's LAeq for the whole interval (a real meter's reading, tested). ``l10``, ``l50`` and
``l90`` are optional, checked when sent and not stored (the store computes exceedance levels
from the 1-s LAeq). :func:`overlapping` finds the readings of one message whose interval
reaches past the next reading's start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any, Final, NamedTuple

import numpy as np

from noiselab.ingest.reasons import (
    DURATION_OVERLAPS_NEXT,
    LAFMAX_BELOW_LAEQ,
    PERCENTILES_OUT_OF_ORDER,
    describe,
    show,
)
from noiselab.model import Reading, ts_key

__all__ = [
    "LEVEL_ORDER_TOLERANCE_DB",
    "MAX_BANDS",
    "MAX_DURATION_S",
    "MAX_LEVEL_DB",
    "MAX_SEQ",
    "MIN_PLAUSIBLE_TS",
    "OVERLAP_TOLERANCE_MS",
    "PERCENTILES",
    "ReadingContext",
    "level_order_problems",
    "overlap_reason",
    "overlapping",
    "problems",
    "rfc3339_to_unix",
]

MIN_PLAUSIBLE_TS: Final = 946_684_800.0
"""2000-01-01T00:00:00Z in Unix seconds: anything earlier is a sensor without a clock."""
MAX_LEVEL_DB: Final = 160.0
MAX_DURATION_S: Final = 3600.0
MAX_BANDS: Final = 64
MAX_SEQ: Final = 2**63 - 1
"""``seq`` must fit a signed 64-bit integer column."""
LEVEL_ORDER_TOLERANCE_DB: Final = 0.1
"""How far the levels of one reading may break their physical order beyond what physics
allows (dB): LAFmax below its floor, L10 below L50 or L50 below L90. Sensors report levels
rounded to 0.1 dB, so two rounded values may cross by up to that much."""
FAST_TIME_CONSTANT_S: Final = 0.125
"""Time constant of time weighting F (s), IEC 61672-1."""
OVERLAP_TOLERANCE_MS: Final = 10
"""How far a reading's interval may reach past the next reading's start (ms): timestamps
rounded to hundredths of a second."""
PERCENTILES: Final = ("l10", "l50", "l90")
"""The optional exceedance levels a reading may carry, from the loudest down."""

_MISSING: Final = object()
"""Marks a field absent from the reading (an explicit ``null`` is ``None``)."""
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


class ReadingContext(NamedTuple):
    """Where a reading came from: its topic and sensor, and the receive time (Unix s) with the
    tolerance for clocks ahead (s)."""

    topic: str
    sensor_id: str
    received_at: float
    max_future_s: float


def problems(item: Any, ctx: ReadingContext) -> list[str]:
    """Every reason, in field order, why a decoded JSON value is not a valid reading."""
    if not isinstance(item, dict):
        return [f"reading must be a JSON object, got {describe(item)}"]
    errors: list[str] = []
    _check_ts(item.get("ts", _MISSING), ctx, errors)
    laeq = _check_level("laeq", item.get("laeq", _MISSING), errors, required=True)
    duration = _check_duration(item.get("duration"), errors)
    lafmax = _check_level("lafmax", item.get("lafmax"), errors)
    lafmin = _check_level("lafmin", item.get("lafmin"), errors)
    if lafmax is not None and lafmin is not None and lafmin > lafmax:
        errors.append(f"lafmin {show(lafmin)} dB is above lafmax {show(lafmax)} dB")
    percentiles = [_check_level(name, item.get(name), errors) for name in PERCENTILES]
    errors.extend(level_order_problems(laeq, lafmax, percentiles, duration or 1.0))
    _check_spectrum(item.get("spectrum"), errors)
    _check_seq(item.get("seq"), errors)
    _check_sensor_id(item.get("sensor_id"), ctx.sensor_id, errors)
    return errors


def lafmax_shortfall_db(duration_s: float) -> float:
    """How far (dB) the fast-weighted maximum of an interval of ``duration_s`` s can lie below
    its equivalent level: ``10·log10(1 + τ/T)``.

    The F-weighted intensity is ``y(t) = (1/τ)∫x(s)·e^(-(t-s)/τ) ds``. For any weight λ in
    [0, 1], ``max y >= λ·y(T) + (1-λ)·mean(y)``; with ``λ = 1/(1 + T/τ)`` every instant of the
    interval's energy ``E`` counts at least ``E/(T + τ)``, so ``max y >= E/(T + τ)`` while
    ``LAeq`` is ``E/T`` (energy carried in from before only raises ``y``). T = 1 s: 0.51 dB."""
    return 10.0 * math.log10(1.0 + FAST_TIME_CONSTANT_S / duration_s)


def level_order_problems(
    laeq: float | None,
    lafmax: float | None,
    percentiles: Sequence[float | None] = (),
    duration_s: float = 1.0,
) -> list[str]:
    """Why the levels of one reading are physically impossible (empty when they are not):
    LAFmax against its floor below LAeq for an interval of ``duration_s`` s
    (:func:`lafmax_shortfall_db`), and L10 >= L50 >= L90, each with
    :data:`LEVEL_ORDER_TOLERANCE_DB` more. ``percentiles`` are L10, L50 and L90 (dB, ``None``
    when absent)."""
    tol = LEVEL_ORDER_TOLERANCE_DB
    found: list[str] = []
    if laeq is not None and lafmax is not None:
        allowed = lafmax_shortfall_db(duration_s) + tol
        if lafmax < laeq - allowed - 1e-9:
            found.append(
                f"{LAFMAX_BELOW_LAEQ}: lafmax {show(lafmax)} dB is more than {allowed:.2f} dB "
                f"below laeq {show(laeq)} dB (over {show(duration_s)} s the fast maximum lies "
                f"at most 10·log10(1 + 0.125 s/T) below the mean)"
            )
    present = [(n, v) for n, v in zip(PERCENTILES, percentiles, strict=False) if v is not None]
    for (upper, high), (lower, low) in pairwise(present):
        if _below(high, low):
            found.append(
                f"{PERCENTILES_OUT_OF_ORDER}: {upper} {show(high)} dB is more than {tol:g} dB "
                f"below {lower} {show(low)} dB (L10 >= L50 >= L90 must hold)"
            )
    return found


def _below(value: float, bound: float) -> bool:
    """``value`` lies more than the tolerance below ``bound`` (1e-9 dB for float error)."""
    return value < bound - LEVEL_ORDER_TOLERANCE_DB - 1e-9


def overlapping(readings: Sequence[Reading]) -> list[int]:
    """Positions of the readings whose interval reaches more than
    :data:`OVERLAP_TOLERANCE_MS` past the start of the next later reading of the same sensor
    (at the store's millisecond keys; readings of the same ``ts`` are the store's business:
    re-deliveries or conflicts)."""
    if len(readings) < 2 or _clearly_apart(readings):
        return []
    by_sensor: dict[str, list[int]] = {}
    for i, reading in enumerate(readings):
        by_sensor.setdefault(reading.sensor_id, []).append(i)
    flagged: list[int] = []
    for positions in by_sensor.values():
        ts = np.array([readings[i].ts for i in positions], np.float64)
        duration = np.array([readings[i].duration for i in positions], np.float64)
        start = np.rint(ts * 1000.0).astype(np.int64)
        end = start + np.maximum(1, np.rint(duration * 1000.0).astype(np.int64))
        order = np.argsort(start, kind="stable")
        ordered = start[order]
        after = np.searchsorted(ordered, ordered, side="right")  # the next later start
        has_next = after < ordered.size
        later = ordered[np.minimum(after, ordered.size - 1)]
        bad = has_next & (end[order] > later + OVERLAP_TOLERANCE_MS)
        flagged.extend(positions[k] for k in order[bad].tolist())
    return sorted(flagged)


def _clearly_apart(readings: Sequence[Reading]) -> bool:
    """The usual message, checked cheaply: one sensor, in time order, each interval ending
    well within the tolerance of the next start (with a margin for float rounding; anything
    closer is left to the exact check on millisecond keys)."""
    sensor_id = readings[0].sensor_id
    margin = OVERLAP_TOLERANCE_MS / 1000.0 - 0.002
    previous = readings[0]
    for reading in readings[1:]:
        if (
            reading.sensor_id != sensor_id
            or reading.ts <= previous.ts
            or previous.ts + previous.duration > reading.ts + margin
        ):
            return False
        previous = reading
    return True


def overlap_reason(reading: Reading, readings: Sequence[Reading]) -> str:
    """The reason :func:`overlapping` flagged ``reading`` among ``readings``."""
    start = ts_key(reading.ts)
    later = min(
        ts_key(r.ts) for r in readings if r.sensor_id == reading.sensor_id and ts_key(r.ts) > start
    )
    return (
        f"{DURATION_OVERLAPS_NEXT}: duration {show(reading.duration)} s reaches past the next "
        f"reading of the message, {(later - start) / 1000.0:g} s after ts {show(reading.ts)}"
    )


def _number(name: str, value: Any, errors: list[str]) -> float | None:
    """``value`` as a finite float, or ``None`` after recording why it is not one."""
    if type(value) is float:
        number = value
    elif type(value) is int:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf if value > 0 else -math.inf
    else:
        errors.append(f"{name}: must be a number, got {describe(value)}")
        return None
    if not math.isfinite(number):
        sign = "-" if number < 0 else ""
        errors.append(
            f"{name}: must be a finite number, got {sign}infinity "
            "(the JSON number is beyond the float range)"
        )
        return None
    return number


def _check_ts(value: Any, ctx: ReadingContext, errors: list[str]) -> None:
    ts = _ts_seconds(value, errors)
    if ts is None:
        return
    if ts < MIN_PLAUSIBLE_TS:
        errors.append(f"ts: {show(ts)} is before 2000-01-01T00:00:00Z, implausible")
    elif ts > ctx.received_at + ctx.max_future_s:
        ahead = _seconds_over(ts - ctx.received_at, ctx.max_future_s)
        errors.append(
            f"ts: {ahead} s in the future of the receive time (limit {ctx.max_future_s:g} s)"
        )


def _seconds_over(seconds: float, limit: float) -> str:
    """``seconds`` to 0.1 s, or finer when that rounding would make it look within ``limit``."""
    return f"{seconds:.1f}" if round(seconds, 1) > limit else f"{seconds:.6f}".rstrip("0")


def _ts_seconds(value: Any, errors: list[str]) -> float | None:
    """``ts`` in Unix seconds, or ``None`` after recording why it cannot be read."""
    if value is _MISSING:
        errors.append("ts: required (Unix seconds or an RFC 3339 string with offset)")
        return None
    if type(value) in (int, float):
        return _number("ts", value, errors)
    if type(value) is not str:
        errors.append(
            f"ts: must be Unix seconds (a number) or an RFC 3339 string, got {describe(value)}"
        )
        return None
    try:
        return rfc3339_to_unix(value)
    except ValueError as exc:
        errors.append(f"ts: {exc}")
        return None


def _check_level(
    name: str, value: Any, errors: list[str], *, required: bool = False
) -> float | None:
    if value is None and not required:
        return None
    if value is _MISSING:
        errors.append(f"{name}: required (a level in dB)")
        return None
    level = _number(name, value, errors)
    if level is not None and not 0.0 <= level <= MAX_LEVEL_DB:
        errors.append(f"{name}: must be between 0 and {MAX_LEVEL_DB:g} dB, got {show(value)}")
        return None
    return level


def _check_duration(value: Any, errors: list[str]) -> float | None:
    """The valid duration (s), or ``None`` when absent or refused."""
    if value is None:
        return None
    duration = _number("duration", value, errors)
    if duration is not None and not 0.0 < duration <= MAX_DURATION_S:
        errors.append(
            f"duration: must be more than 0 and at most {MAX_DURATION_S:g} s, got {show(value)}"
        )
        return None
    return duration


def _check_spectrum(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        errors.append(
            f"spectrum: must be an object with bands_hz and lzeq arrays, got {describe(value)}"
        )
        return
    bands = _check_series(
        "spectrum.bands_hz", value.get("bands_hz", _MISSING), _band_problem, errors
    )
    lzeq = _check_series("spectrum.lzeq", value.get("lzeq", _MISSING), _level_problem, errors)
    if bands is not None and lzeq is not None:
        problem = _spectrum_shape_problem(bands, lzeq)
        if problem:
            errors.append(problem)


def _check_series(
    name: str,
    value: Any,
    element_problem: Callable[[str, float], str | None],
    errors: list[str],
) -> list[float] | None:
    """The numbers of a spectrum array, or ``None`` after recording its first problem."""
    if value is _MISSING:
        errors.append(f"{name}: required")
        return None
    if not isinstance(value, list):
        errors.append(f"{name}: must be an array of numbers, got {describe(value)}")
        return None
    numbers: list[float] = []
    for i, element in enumerate(value):
        number = _number(f"{name}[{i}]", element, errors)
        if number is None:
            return None
        problem = element_problem(f"{name}[{i}]", number)
        if problem:
            errors.append(problem)
            return None
        numbers.append(number)
    return numbers


def _band_problem(name: str, band: float) -> str | None:
    return None if band > 0.0 else f"{name}: must be a positive frequency in Hz, got {band!r}"


def _level_problem(name: str, level: float) -> str | None:
    if 0.0 <= level <= MAX_LEVEL_DB:
        return None
    return f"{name}: must be between 0 and {MAX_LEVEL_DB:g} dB, got {level!r}"


def _spectrum_shape_problem(bands: list[float], lzeq: list[float]) -> str | None:
    if not 1 <= len(bands) <= MAX_BANDS:
        return f"spectrum: must have 1 to {MAX_BANDS} bands, got {len(bands)}"
    if len(bands) != len(lzeq):
        return f"spectrum: bands_hz has {len(bands)} values but lzeq has {len(lzeq)}"
    for i in range(1, len(bands)):
        if bands[i] <= bands[i - 1]:
            return (
                f"spectrum.bands_hz: must be strictly increasing, but [{i}] = {bands[i]!r} "
                f"follows [{i - 1}] = {bands[i - 1]!r}"
            )
    return None


def _check_seq(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    if type(value) is not int:
        errors.append(f"seq: must be an integer >= 0, got {describe(value)}")
    elif not 0 <= value <= MAX_SEQ:
        errors.append(f"seq: must be an integer from 0 to 2**63 - 1, got {show(value)}")


def _check_sensor_id(value: Any, topic_sensor_id: str | None, errors: list[str]) -> None:
    if value is None or value == topic_sensor_id:
        return
    if type(value) is not str:
        errors.append(f"sensor_id: must be a string, got {describe(value)}")
    else:
        errors.append(f"sensor_id {show(value)} differs from the topic's {show(topic_sensor_id)}")


def rfc3339_to_unix(text: str) -> float:
    """Unix seconds of an RFC 3339 date-time with offset; ``ValueError`` says what is wrong."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{show(text)} is not an RFC 3339 date-time (e.g. 2026-03-29T01:30:00+01:00)"
        )
    if match["offset"] is None:
        raise ValueError(f"{show(text)} has no UTC offset: add Z or +hh:mm")
    try:
        return datetime.fromisoformat(text.upper()).timestamp()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{show(text)} is not a valid date-time ({exc})") from None
