"""Leave-one-sensor-out validation of scale and sum: how far the surface is from each sensor
when that sensor is left out of the fit.

Units: dB re 20 µPa, A-weighted. For each online sensor ``s`` the gains and background are
refitted without it (:func:`.scale.fit_gains` with its measurement set to NaN) and the
surface's level at its position (:func:`.scale.combine`, the exact model at the point) is
compared with its measurement: ``error_s = predicted_s - measured_s``. Offline sensors (NaN)
get NaN. :func:`summarize` gives the median, 90th percentile and maximum of ``|error|`` over
all sensor-periods evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.noisemap.scale import FitParams, combine, fit_gains

__all__ = [
    "LooResult",
    "leave_one_out",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class LooResult:
    """Per-sensor leave-one-out results of one period: ``predicted_db`` and ``errors_db``
    (predicted minus measured, dB; NaN for an offline sensor), in ``sensor_ids`` order."""

    sensor_ids: tuple[str, ...]
    measured_db: FloatArray
    predicted_db: FloatArray
    errors_db: FloatArray


def leave_one_out(
    groups: tuple[str, ...],
    model_db: FloatArray,
    measured_db: npt.ArrayLike,
    background: npt.ArrayLike,
    sensor_ids: tuple[str, ...],
    *,
    params: FitParams | None = None,
) -> LooResult:
    """Refit without each online sensor in turn and predict it (arguments as
    :func:`.scale.fit_gains`)."""
    meas = np.asarray(measured_db, dtype=np.float64)
    predicted = np.full(meas.size, np.nan)
    for s in np.flatnonzero(np.isfinite(meas)):
        without = meas.copy()
        without[s] = np.nan
        fit = fit_gains(groups, model_db, without, background, sensor_ids, params=params)
        total, _ = combine(model_db[:, s : s + 1], fit.gains_db, fit.background_db)
        predicted[s] = total[0]
    return LooResult(
        sensor_ids=sensor_ids,
        measured_db=meas,
        predicted_db=predicted,
        errors_db=predicted - meas,
    )


def summarize(errors_db: npt.ArrayLike) -> dict[str, float]:
    """``n``, ``median``, ``p90`` and ``max`` of the absolute errors (dB) that are not NaN,
    and the mean ``bias`` (dB, signed). Example: errors ``[1, -2, 3]`` give median 2."""
    err = np.asarray(errors_db, dtype=np.float64).reshape(-1)
    err = err[np.isfinite(err)]
    if err.size == 0:
        raise ValueError("no errors to summarize")
    a = np.abs(err)
    return {
        "n": float(err.size),
        "median": float(np.median(a)),
        "p90": float(np.percentile(a, 90)),
        "max": float(a.max()),
        "bias": float(err.mean()),
    }
