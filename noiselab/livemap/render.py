"""The images of an update: the surface in the 5-dB bands and, for Lden, the "above the
guideline value" shading; both palette PNGs on the :class:`~.raster.LonLatRaster`.

Guideline shading (Lden only): a pixel is shaded where the surface's Lden is above the Danish
guideline value of the source type that dominates there: 58 dB where road traffic brings more
energy than the railway, 64 dB where the railway does (Miljøstyrelsen's guideline values at
dwellings, :mod:`noiselab.analysis.guidelines`); "above" is ``> value`` after rounding to
0.01 dB, as the sensor panel says it. Shaded pixels are diagonal stripes (4 px on, 4 px off)
of a dark violet, so the band colours stay readable between them. The guideline values refer
to a yearly Lden, so the layer exists for the ``year`` period only; an LAeq of 15 minutes or
24 hours is not comparable with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from noiselab.analysis.guidelines import lden_guideline_values
from noiselab.livemap.context import MapContext, surface_of
from noiselab.livemap.png import Rgba, palette_png
from noiselab.livemap.raster import BAND_PALETTE, classify
from noiselab.livemap.terms import Terms, only
from noiselab.noisemap.basic_maps import Float32Array

__all__ = ["GUIDELINE_PALETTE", "Images", "render"]

GUIDELINE_PALETTE: tuple[Rgba, ...] = ((0, 0, 0, 0), (59, 10, 69, 190))
"""Index 0 transparent, 1 the shading's dark violet (alpha 190 of 255)."""
STRIPE_PX = 4


@dataclass(frozen=True, slots=True)
class Images:
    """``bands``: the band PNG; ``guideline``: the shading PNG (``None`` for LAeq periods)."""

    bands: bytes
    guideline: bytes | None


def _shading(ctx: MapContext, terms: Terms, surface: Float32Array) -> np.ndarray:
    kinds = np.array(ctx.kinds)
    road = ctx.raster.sample(surface_of(ctx.nmap, only(terms, kinds == "road")), -np.inf)
    rail = ctx.raster.sample(surface_of(ctx.nmap, only(terms, kinds == "rail")), -np.inf)
    level = np.round(ctx.raster.sample(surface, -np.inf), 2)
    values = lden_guideline_values()
    limit = np.where(road >= rail, values["road"], values["rail"])
    traffic = np.isfinite(np.maximum(road, rail))
    rows, cols = np.indices(level.shape)
    stripes = ((rows + cols) // STRIPE_PX) % 2 == 0
    return np.asarray(traffic & (level > limit) & stripes, dtype=np.uint8)


def render(ctx: MapContext, terms: Terms, surface: Float32Array, *, lden: bool) -> Images:
    """The band PNG of ``surface`` and, when ``lden``, its guideline shading PNG."""
    classes = classify(ctx.raster.sample(surface))
    bands = palette_png(classes, BAND_PALETTE)
    guideline = palette_png(_shading(ctx, terms, surface), GUIDELINE_PALETTE) if lden else None
    return Images(bands, guideline)
