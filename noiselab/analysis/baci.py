"""Before/after effect of a noise measure: insertion loss and BACI with a day-block bootstrap.

Levels are in dB (re 20 µPa, A-weighted by convention). Every mean is energetic
(``10·log10(Σ wᵢ·10^(Lᵢ/10) / Σ wᵢ)``), never arithmetic; effects are differences of such
means, in dB.

* **Insertion loss** (ISO 10847:1997, *In-situ determination of insertion loss of outdoor noise
  barriers of all types*): ``IL = Leq(without) - Leq(with)`` at the receiver, positive when the
  measure makes it quieter. :func:`insertion_loss` is the plain before/after difference at one
  position; :func:`insertion_loss_paired` subtracts the change seen at a reference position
  that the barrier does not affect, which corrects for a change of the source between the two
  measurements (the reference-microphone idea of ISO 10847).
* **BACI** (Before-After-Control-Impact; Stewart-Oaten, Murdoch & Parker 1986, "Environmental
  impact assessment: 'pseudoreplication' in time?", *Ecology* 67(4):929-940): the change of the
  treated-minus-control difference, ``(T_after - C_after) - (T_before - C_before)``, with a
  percentile confidence interval from a bootstrap that resamples whole days (Efron & Tibshirani
  1993, *An Introduction to the Bootstrap*, ch. 13; block resampling for dependent data after
  Künsch 1989, "The jackknife and the bootstrap for general stationary observations", *Ann.
  Statist.* 17(3):1217-1241). See :func:`baci` for the estimator and its assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.decibels import leq

__all__ = ["BaciResult", "baci", "insertion_loss", "insertion_loss_paired"]


HOURS_PER_DAY = 24
"""Block length (hours) of the day bootstrap when no day index is given."""


def insertion_loss(
    before: npt.ArrayLike,
    after: npt.ArrayLike,
    durations_before: npt.ArrayLike | None = None,
    durations_after: npt.ArrayLike | None = None,
) -> float:
    """Insertion loss at one position: ``IL = Leq(before) - Leq(after)`` in dB.

    Each side is the energetic mean of its levels (dB), weighted by ``durations_*`` (s) when
    given (see :func:`noiselab.analysis.decibels.leq`). Positive means quieter after the
    measure. This is the *direct method* of ISO 10847:1997 reduced to its arithmetic: it is an
    estimate of the barrier's effect only if the source, propagation conditions (wind,
    temperature gradient, ground) and background are equivalent in the two periods; when they
    are not, use :func:`insertion_loss_paired` or :func:`baci`. Example: 70 dB before and 64 dB
    after give 6 dB; 60 and 70 dB for equal times before (Leq 67.40 dB) and 60 dB after give
    7.40 dB. Raises ``ValueError`` as ``leq`` does (no, non-finite levels; bad
    durations).
    """
    return leq(before, durations_before) - leq(after, durations_after)


def insertion_loss_paired(
    without: npt.ArrayLike,
    with_: npt.ArrayLike,
    reference_without: npt.ArrayLike,
    reference_with: npt.ArrayLike,
    *,
    durations_without: npt.ArrayLike | None = None,
    durations_with: npt.ArrayLike | None = None,
) -> float:
    """Insertion loss corrected by a reference position (dB).

    ``IL = [Leq(without) - Leq(with_)] - [Leq(reference_without) - Leq(reference_with)]``.

    ``without`` / ``with_`` are the receiver's levels without and with the barrier (before and
    after it was built, ISO 10847's direct method, or at an equivalent site without it, the
    indirect method); ``reference_*`` are levels measured *simultaneously* at a reference
    position the barrier does not screen (e.g. near the source, above the barrier's top). A
    change of the source (traffic volume, speed, fleet) moves both positions alike and cancels;
    the remainder is attributed to the barrier. The reference readings share the receiver's
    durations (s), so each pair of arrays must have equal length. Example: receiver 70 -> 63 dB
    while the reference goes 80 -> 81 dB (one dB more traffic) gives ``7 - (-1) = 8`` dB.
    """
    for name, receiver, reference in (
        ("without", without, reference_without),
        ("with_", with_, reference_with),
    ):
        n_rec, n_ref = np.size(receiver), np.size(reference)
        if n_rec != n_ref:
            raise ValueError(f"{name}: {n_rec} receiver levels but {n_ref} reference levels")
    receiver_il = insertion_loss(without, with_, durations_without, durations_with)
    reference_change = insertion_loss(
        reference_without, reference_with, durations_without, durations_with
    )
    return receiver_il - reference_change


@dataclass(frozen=True, slots=True)
class BaciResult:
    """Outcome of :func:`baci`. Levels and differences in dB; hours are matched hours.

    ``effect_db`` is ``delta_after - delta_before`` (negative: the treated site got quieter
    relative to the control) and ``reduction_db`` is ``-effect_db``. ``ci_low``/``ci_high``
    bound ``effect_db`` at ``confidence``. ``hours_*`` is the weight of the matched hours (their
    count when no weights were given), ``days_*`` the number of days with matched hours (the
    bootstrap's resampling units).
    """

    effect_db: float
    reduction_db: float
    ci_low: float
    ci_high: float
    confidence: float
    n_boot: int
    t_before: float
    c_before: float
    t_after: float
    c_after: float
    delta_before: float
    delta_after: float
    hours_before: float
    hours_after: float
    days_before: int
    days_after: int
    method: str


@dataclass(frozen=True, slots=True)
class _Phase:
    """One phase reduced to what the estimator and the bootstrap need.

    Energies are relative to ``t_ref``/``c_ref`` (the loudest matched level of each site), so
    ``10^(L/10)`` cannot overflow; ``t_day``/``c_day`` are per-day sums of ``w·10^((L-ref)/10)``.
    """

    t_level: float
    c_level: float
    hours: float
    t_ref: float
    c_ref: float
    t_day: FloatArray
    c_day: FloatArray


def _hourly_levels(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of hourly levels, got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{name}: levels must be finite dB values or NaN for a missing hour")
    return arr


def _hour_weights(values: npt.ArrayLike | None, size: int, name: str) -> FloatArray:
    if values is None:
        return np.ones(size, dtype=np.float64)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,):
        raise ValueError(f"{name}: {arr.size} weights for {size} hours")
    if not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise ValueError(f"{name}: weights must be finite and ≥ 0 (hours measured)")
    return arr


def _day_index(values: npt.ArrayLike | None, size: int, name: str) -> IntArray:
    if values is None:
        return np.arange(size, dtype=np.intp) // HOURS_PER_DAY
    arr = np.asarray(values)
    if arr.shape != (size,):
        raise ValueError(f"{name}: {arr.size} day labels for {size} hours")
    if arr.dtype.kind in "iu":
        return arr.astype(np.intp)
    if arr.dtype.kind != "f" or not np.isfinite(arr).all() or (arr != np.round(arr)).any():
        raise ValueError(f"{name}: day labels must be integers (e.g. date ordinals)")
    return arr.astype(np.intp)


def _phase(
    phase: str,
    treated: npt.ArrayLike,
    control: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    days: npt.ArrayLike | None,
) -> _Phase:
    """Validate one phase, keep its matched hours and sum their energies per day."""
    t = _hourly_levels(treated, f"treated_{phase}")
    c = _hourly_levels(control, f"control_{phase}")
    if t.size != c.size:
        raise ValueError(
            f"treated_{phase} has {t.size} hours but control_{phase} has {c.size}; "
            "they must be aligned hour by hour"
        )
    w = _hour_weights(weights, t.size, f"hours_{phase}")
    d = _day_index(days, t.size, f"day_{phase}")
    matched = ~(np.isnan(t) | np.isnan(c)) & (w > 0)
    t, c, w, d = t[matched], c[matched], w[matched], d[matched]
    _, day_of = np.unique(d, return_inverse=True)
    n_days = int(day_of.max()) + 1 if day_of.size else 0
    if n_days < 2:
        raise ValueError(
            f"{phase} phase: matched hours (both sites measured) on {n_days} day(s); "
            "the day bootstrap needs at least 2"
        )
    t_ref, c_ref = float(t.max()), float(c.max())
    t_energy = w * np.power(10.0, (t - t_ref) / 10.0)
    c_energy = w * np.power(10.0, (c - c_ref) / 10.0)
    t_day = np.asarray(np.bincount(day_of, weights=t_energy, minlength=n_days), dtype=np.float64)
    c_day = np.asarray(np.bincount(day_of, weights=c_energy, minlength=n_days), dtype=np.float64)
    hours = float(w.sum())
    return _Phase(
        t_level=leq(t, w),
        c_level=leq(c, w),
        hours=hours,
        t_ref=t_ref,
        c_ref=c_ref,
        t_day=t_day,
        c_day=c_day,
    )


def _bootstrap_deltas(phase: _Phase, rng: np.random.Generator, n_boot: int) -> FloatArray:
    """``T - C`` (dB) of ``n_boot`` resamples of the phase's days, drawn with replacement.

    Treated and control share their matched hours, so the hours cancel in ``T - C``:
    ``ΔL* = 10·log10(Σ E_T,day* / Σ E_C,day*)``.
    """
    n_days = phase.t_day.size
    idx = rng.integers(0, n_days, size=(n_boot, n_days))
    ratio = phase.t_day[idx].sum(axis=1) / phase.c_day[idx].sum(axis=1)
    deltas: FloatArray = phase.t_ref - phase.c_ref + 10.0 * np.log10(ratio)
    return deltas


def baci(
    treated_before: npt.ArrayLike,
    control_before: npt.ArrayLike,
    treated_after: npt.ArrayLike,
    control_after: npt.ArrayLike,
    *,
    hours_before: npt.ArrayLike | None = None,
    hours_after: npt.ArrayLike | None = None,
    day_before: npt.ArrayLike | None = None,
    day_after: npt.ArrayLike | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BaciResult:
    """Before-After-Control-Impact effect of a noise measure, in dB, with a bootstrap interval.

    **Data.** Hourly energetic levels LAeq,1h (dB) of the treated site T (where the measure is
    built) and a control site C (same kind of source, not affected by the measure), aligned hour
    by hour within each phase (equal lengths; ``NaN`` = hour missing). Only *matched hours*, those
    where both sites measured, are used, so both sites of a phase are averaged over the same
    hours. ``hours_*`` optionally weight each hour by the time it stands for, in hours (e.g. its
    coverage, 0..1; 0 counts as missing), shared by T and C; default 1. ``day_*`` label the day
    of each hour (integers, e.g. local date ordinals) for the bootstrap; default: consecutive
    blocks of 24 hours from the first.

    **Estimator** (Stewart-Oaten, Murdoch & Parker 1986, *Ecology* 67(4), difference in
    differences)::

        L_S,P     = 10·log10(Σ wₕ·10^(L_S,h/10) / Σ wₕ)    over the matched hours h of phase P
        Δ_P       = L_T,P - L_C,P
        effect_db = Δ_after - Δ_before,   reduction_db = -effect_db

    Negative ``effect_db`` means the treated site got quieter relative to the control. The
    control absorbs what changed at both sites between the phases (traffic volume, fleet,
    weather, season).

    **Interval.** Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) over days: within each
    phase, independently, the days with matched hours are drawn with replacement (as many as the
    phase has), each day bringing its T *and* C hours together, so the strong within-day
    correlation of the two sites (shared traffic and weather) and the dependence between hours
    of a day are kept (non-overlapping block bootstrap with day blocks, after Künsch 1989). The
    interval is the ``(1 ± confidence)/2`` quantiles of ``n_boot`` resampled effects. Vectorised:
    per-day energy sums are computed once and each replicate sums ``n_days`` of them.

    **Assumptions.** (1) The control is not affected by the measure. (2) Without the measure,
    ``T - C`` would have stayed the same on average (additive on the dB scale; parallel trends).
    (3) Days are exchangeable and independent within a phase; correlation that spans several
    days (weather spells, weekly traffic cycles) is not captured and makes the interval too
    narrow: prefer whole weeks per phase. (4) Energetic means are dominated by loud hours, and
    both phases should cover the same mix of hours (day/night, weekday/weekend): gaps that
    differ between phases shift the means. (5) The percentile interval covers slightly less
    often than ``confidence`` (about 93-94 % for 95 % with 2 to 8 weeks per phase in simulations
    with day-level noise), and less still with only a few days per phase.

    Raises ``ValueError`` for misaligned or non-1-D inputs, infinite levels, bad weights or day
    labels, fewer than 2 days with matched hours in a phase, ``n_boot < 1`` or ``confidence``
    outside (0, 1).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
    before = _phase("before", treated_before, control_before, hours_before, day_before)
    after = _phase("after", treated_after, control_after, hours_after, day_after)

    delta_before = before.t_level - before.c_level
    delta_after = after.t_level - after.c_level
    effect = delta_after - delta_before

    rng = np.random.default_rng(seed)
    boot_before = _bootstrap_deltas(before, rng, n_boot)
    boot_after = _bootstrap_deltas(after, rng, n_boot)
    alpha = 1.0 - confidence
    low, high = np.quantile(boot_after - boot_before, [alpha / 2.0, 1.0 - alpha / 2.0])

    method = (
        "BACI difference in differences (T_after - C_after) - (T_before - C_before) of "
        f"energetic means over matched hours; {confidence * 100:g} % percentile interval from "
        f"{n_boot} bootstrap resamples of whole days within each phase (T and C of a day kept "
        "together)"
    )
    return BaciResult(
        effect_db=effect,
        reduction_db=-effect,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        n_boot=int(n_boot),
        t_before=before.t_level,
        c_before=before.c_level,
        t_after=after.t_level,
        c_after=after.c_level,
        delta_before=delta_before,
        delta_after=delta_after,
        hours_before=before.hours,
        hours_after=after.hours,
        days_before=before.t_day.size,
        days_after=after.t_day.size,
        method=method,
    )
