"""One update of the living map for a period: read the public sensors, fit, validate, render.

:func:`compute_update` does, for one period at one instant (levels dB re 20 µPa, A-weighted):

1. the measured level of every public, located sensor (:mod:`.measure`), ``None`` when it has
   too little data; sensors registered with source ``background`` are the background
   references of the fit;
2. LAeq periods: the emission offsets and one fit (:meth:`NoiseMap.fit`); Lden (``year``): one
   of each for day, evening and night, combined with the penalties (:mod:`.terms`);
3. leave-one-sensor-out validation (:meth:`NoiseMap.validate`); for Lden each sensor's left-out
   day, evening and night predictions are combined like its measurements;
4. the surface (:class:`~noiselab.noisemap.scale.ScaleAndSum`, one matrix-vector product), its
   band image and, for Lden, the "above the guideline value" image (:mod:`.render`).

Only what is given as ``sensors`` takes part: the caller passes the public ones, so nothing
of a private sensor reaches the fit, the accuracy figures or the nearest-sensor lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray
from noiselab.analysis.periods import DANISH_PENALTIES, composite_rating_level
from noiselab.livemap.context import MapContext, modelled_at, surface_of
from noiselab.livemap.measure import den_levels, window_laeq
from noiselab.livemap.periods import PeriodRules, PeriodSpec, window
from noiselab.livemap.render import Images, render
from noiselab.livemap.terms import Terms, laeq_terms, lden_terms
from noiselab.model import Sensor, utc
from noiselab.noisemap.basic_maps import Float32Array
from noiselab.noisemap.emission import PeriodHours, group_offsets_db, period_hours
from noiselab.noisemap.model import NoiseMap, SensorValues
from noiselab.noisemap.scale import Fit
from noiselab.noisemap.validation import LooResult
from noiselab.store.base import ReadingStore

__all__ = [
    "SensorResult",
    "SurfaceUpdate",
    "compute_update",
    "token",
    "utc",
]

UNCERTAINTY_PERCENTILE = 68.0
"""The estimate's "±": this percentile of the period's absolute leave-one-out errors (about
one standard deviation for normally distributed errors)."""
MIN_LOO_FOR_UNCERTAINTY = 3


@dataclass(frozen=True, slots=True)
class SensorResult:
    """One public sensor in an update: measured, modelled (the full fit) and left-out error."""

    id: str
    name: str
    source: str | None
    lon: float
    lat: float
    measured_db: float | None
    modelled_db: float | None
    loo_error_db: float | None


@dataclass(frozen=True, slots=True)
class SurfaceUpdate:
    """One computed period: terms, gains, sensors, the surface and its images."""

    spec: PeriodSpec
    start: float
    end: float
    updated_at: float
    terms: Terms
    gains_db: FloatArray
    fitted: BoolArray
    by_period: dict[str, FloatArray] | None
    sensors: tuple[SensorResult, ...]
    loo_abs_db: FloatArray
    surface: Float32Array
    images: Images

    @property
    def uncertainty_db(self) -> float | None:
        """The "±" of an estimate (:data:`UNCERTAINTY_PERCENTILE`), ``None`` with too few."""
        if self.loo_abs_db.size < MIN_LOO_FOR_UNCERTAINTY:
            return None
        return float(np.percentile(self.loo_abs_db, UNCERTAINTY_PERCENTILE))


def _values(sensors: Sequence[Sensor], levels: dict[str, float | None]) -> SensorValues:
    return {s.id: (float(s.lon or 0.0), float(s.lat or 0.0), levels.get(s.id)) for s in sensors}


def _background_ids(sensors: Sequence[Sensor]) -> set[str]:
    return {s.id for s in sensors if s.source == "background"}


@dataclass(frozen=True, slots=True)
class _Fitted:
    terms: Terms
    gains_db: FloatArray
    fitted: BoolArray
    by_period: dict[str, FloatArray] | None
    measured: dict[str, float | None]
    predicted: dict[str, float | None]


def _fit(nmap: NoiseMap, values: SensorValues, bg: set[str], offsets: FloatArray) -> Fit:
    """The fit, or without any located public sensor the unscaled model (zero gains, the
    default background)."""
    if values:
        return nmap.fit(values, bg, offsets)
    n = len(nmap.groups)
    return Fit(
        groups=nmap.groups,
        gains_db=np.zeros(n),
        fitted=np.zeros(n, dtype=np.bool_),
        background_db=nmap.fit_params.default_background_db,
        used=(),
        background_from=(),
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _loo_map(result: LooResult) -> dict[str, float | None]:
    return {s: _finite(p) for s, p in zip(result.sensor_ids, result.predicted_db, strict=True)}


def _fit_laeq(
    ctx: MapContext, store: ReadingStore, sensors: Sequence[Sensor], start: float, end: float
) -> _Fitted:
    nmap = ctx.nmap
    levels = window_laeq(store, [s.id for s in sensors], start, end)
    values = _values(sensors, levels)
    offsets = nmap.offsets(start, end)
    fit = _fit(nmap, values, _background_ids(sensors), offsets)
    loo = nmap.validate(values, _background_ids(sensors), offsets) if values else None
    return _Fitted(
        laeq_terms(offsets, fit),
        fit.gains_db,
        fit.fitted,
        None,
        levels,
        _loo_map(loo) if loo is not None else {},
    )


def _subset(hours: PeriodHours, mask: BoolArray) -> PeriodHours:
    return PeriodHours(hours.weekend[mask], hours.hour[mask], hours.weight[mask])


def _combine_den(parts: Sequence[float | None], rules: PeriodRules) -> float | None:
    if any(p is None for p in parts):
        return None
    return composite_rating_level([float(p or 0.0) for p in parts], rules.hours, DANISH_PENALTIES)


def _fit_lden(
    ctx: MapContext,
    store: ReadingStore,
    sensors: Sequence[Sensor],
    start: float,
    end: float,
    *,
    rules: PeriodRules,
) -> _Fitted:
    nmap = ctx.nmap
    ids = [s.id for s in sensors]
    den = den_levels(store, ids, start, end, rules)
    all_hours = period_hours(start, end)
    bg = _background_ids(sensors)
    terms, unscaled, gains = [], [], []
    predicted: list[dict[str, float | None]] = []
    for p in range(3):
        mask = den.hours[p] if den.hours[p].any() else den.periods[p]  # no data: the model alone
        offsets = group_offsets_db(
            nmap.sources, nmap.groups, _subset(all_hours, mask), nmap.maps.grid.projection
        )
        values = _values(sensors, {s: den.levels[s][p] for s in ids})
        fit = _fit(nmap, values, bg, offsets)
        terms.append(laeq_terms(offsets, fit))
        unscaled.append(Terms(offsets, fit.background_db))
        gains.append(fit.gains_db)
        predicted.append(_loo_map(nmap.validate(values, bg, offsets)) if values else {})
    combined = lden_terms(terms, rules.hours, DANISH_PENALTIES)
    reference = lden_terms(unscaled, rules.hours, DANISH_PENALTIES)
    with np.errstate(invalid="ignore"):
        effective = np.nan_to_num(combined.group_db - reference.group_db, nan=0.0)
    return _Fitted(
        combined,
        effective,
        np.any(np.stack(gains) != 0, axis=0),
        {"day": gains[0], "evening": gains[1], "night": gains[2]},
        {s: _combine_den(den.levels[s], rules) for s in ids},
        {s: _combine_den([pr.get(s) for pr in predicted], rules) for s in ids},
    )


def compute_update(
    ctx: MapContext,
    store: ReadingStore,
    sensors: Sequence[Sensor],
    spec: PeriodSpec,
    *,
    now: float,
    rules: PeriodRules,
) -> SurfaceUpdate:
    """The update of ``spec`` at ``now`` (Unix s) from ``sensors`` (public and located)."""
    start, end = window(spec, now)
    located = [s for s in sensors if s.lat is not None and s.lon is not None]
    if spec.indicator == "lden":
        fitted = _fit_lden(ctx, store, located, start, end, rules=rules)
    else:
        fitted = _fit_laeq(ctx, store, located, start, end)
    modelled = modelled_at(
        ctx.nmap, fitted.terms, [(float(s.lon or 0), float(s.lat or 0)) for s in located]
    )
    results = []
    for s, model in zip(located, modelled.tolist(), strict=True):
        meas, pred = fitted.measured.get(s.id), fitted.predicted.get(s.id)
        error = None if meas is None or pred is None else pred - meas
        results.append(
            SensorResult(
                s.id,
                s.name,
                s.source,
                float(s.lon or 0),
                float(s.lat or 0),
                meas,
                _finite(model),
                error,
            )
        )
    errors = np.array([abs(r.loo_error_db) for r in results if r.loo_error_db is not None])
    surface = surface_of(ctx.nmap, fitted.terms)
    images = render(ctx, fitted.terms, surface, lden=spec.indicator == "lden")
    return SurfaceUpdate(
        spec=spec,
        start=start,
        end=end,
        updated_at=now,
        terms=fitted.terms,
        gains_db=fitted.gains_db,
        fitted=fitted.fitted,
        by_period=fitted.by_period,
        sensors=tuple(results),
        loo_abs_db=errors,
        surface=surface,
        images=images,
    )


def token(body: bytes) -> str:
    """16 hex digits of the BLAKE2b hash of ``body`` (a version token and ETag core)."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()
