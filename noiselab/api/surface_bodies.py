"""The JSON bodies of the living map's routes, encoded once per update (see
:mod:`noiselab.api.schemas.surface` for their fields). Levels are rounded to 0.01 dB, shares
to 0.0001, distances to 0.1 m; non-finite values are ``null``."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import msgspec
import numpy as np

from noiselab.analysis.decibels import round_db
from noiselab.analysis.guidelines import lden_guideline_values
from noiselab.api.map_bands import BANDS
from noiselab.livemap.context import MapContext
from noiselab.livemap.estimate import Contribution, Nearby, PointEstimate
from noiselab.livemap.update import SensorResult, SurfaceUpdate, token
from noiselab.model import rfc3339, utc

__all__ = ["Encoded", "SurfaceBodies", "estimate_body", "surface_body"]

SURFACE_PNG = "/api/v1/map/surface.png"


@dataclass(frozen=True, slots=True)
class Encoded:
    """The surface JSON and both images of one update, with their strong ETags."""

    json: bytes
    json_etag: str
    png: bytes
    png_token: str
    guideline: bytes | None
    guideline_token: str | None


def _db(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round_db(value)


def _sensor(s: SensorResult) -> dict[str, object]:
    return {
        "id": s.id,
        "name": s.name,
        "measured_db": _db(s.measured_db),
        "modelled_db": _db(s.modelled_db),
        "loo_error_db": _db(s.loo_error_db),
    }


def _accuracy(update: SurfaceUpdate) -> dict[str, object]:
    errors = update.loo_abs_db
    some = errors.size > 0
    return {
        "n": int(errors.size),
        "median_abs_db": _db(float(np.median(errors))) if some else None,
        "p90_abs_db": _db(float(np.percentile(errors, 90))) if some else None,
        "per_sensor": [_sensor(s) for s in update.sensors],
    }


def _gains(ctx: MapContext, update: SurfaceUpdate) -> list[dict[str, object]]:
    out = []
    for i, g in enumerate(ctx.groups):
        by = None
        if update.by_period is not None:
            by = {name: round_db(float(gains[i])) for name, gains in update.by_period.items()}
        out.append(
            {
                "group": g.group,
                "name": g.name,
                "kind": g.kind,
                "sources": [s.name for s in g.sources],
                "gain_db": round_db(float(update.gains_db[i])),
                "fitted": bool(update.fitted[i]),
                "by_period": by,
            }
        )
    return out


def surface_body(ctx: MapContext, update: SurfaceUpdate) -> Encoded:
    """The encoded answers of ``update``."""
    name = update.spec.name
    png_token = token(update.images.bands)
    guide = update.images.guideline
    guide_token = None if guide is None else token(guide)
    (south, west), (north, east) = ctx.raster.bounds
    body = {
        "period": name,
        "indicator": update.spec.indicator,
        "start": rfc3339(utc(update.start)),
        "end": rfc3339(utc(update.end)),
        "updated_at": rfc3339(utc(update.updated_at)),
        "bounds": [[south, west], [north, east]],
        "image_url": f"{SURFACE_PNG}?period={name}&v={png_token}",
        "guideline_image_url": None
        if guide_token is None
        else f"{SURFACE_PNG}?period={name}&layer=guideline&v={guide_token}",
        "bands": [
            {"label": b.label, "low": b.low, "high": b.high, "colour": b.colour} for b in BANDS
        ],
        "gains": _gains(ctx, update),
        "background_db": _db(update.terms.background_db),
        "uncertainty_db": _db(update.uncertainty_db),
        "guidelines_lden_db": lden_guideline_values(),
        "accuracy": _accuracy(update),
    }
    data = msgspec.json.encode(body)
    return Encoded(data, f'"{token(data)}"', update.images.bands, png_token, guide, guide_token)


def _contribution(c: Contribution) -> dict[str, object]:
    return {
        "group": c.group,
        "name": c.name,
        "kind": c.kind,
        "level_db": _db(c.level_db),
        "share": round(c.share, 4),
    }


def _nearby(n: Nearby) -> dict[str, object]:
    return {**_sensor(n.sensor), "distance_m": round(n.distance_m, 1)}


def estimate_body(update: SurfaceUpdate, found: PointEstimate) -> bytes:
    """The encoded estimate."""
    return msgspec.json.encode(
        {
            "period": update.spec.name,
            "indicator": update.spec.indicator,
            "lat": found.lat,
            "lon": found.lon,
            "level_db": round_db(found.level_db),
            "uncertainty_db": _db(found.uncertainty_db),
            "contributions": [_contribution(c) for c in found.contributions],
            "dominant": _contribution(found.dominant),
            "guideline_db": found.guideline_db,
            "above_guideline": found.above_guideline,
            "nearest": [_nearby(n) for n in found.nearest],
            "updated_at": rfc3339(utc(update.updated_at)),
        }
    )


class SurfaceBodies:
    """The encoded answers of the latest updates, per period and update time (a few kept)."""

    def __init__(self, keep: int = 8) -> None:
        self._keep = keep
        self._found: dict[tuple[str, float], Encoded] = {}
        self._lock = threading.Lock()

    def peek(self, update: SurfaceUpdate) -> Encoded | None:
        """The encoded answers of ``update`` if already encoded."""
        with self._lock:
            return self._found.get((update.spec.name, update.updated_at))

    def get(self, ctx: MapContext, update: SurfaceUpdate) -> Encoded:
        """The encoded answers of ``update`` (encoded on first use)."""
        key = (update.spec.name, update.updated_at)
        with self._lock:
            found = self._found.get(key)
        if found is None:
            found = surface_body(ctx, update)
            with self._lock:
                while len(self._found) >= self._keep:
                    del self._found[next(iter(self._found))]
                self._found[key] = found
        return found
