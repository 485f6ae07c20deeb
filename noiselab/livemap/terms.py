"""The surface of a period as one scale and sum: an effective level term per source group and
a background term, for LAeq periods and for Lden alike.

A fitted LAeq period (:class:`noiselab.noisemap.scale.Fit`, offsets ``o_g``) has the surface
``L_i = 10·log10(Σ_g 10^((B_gi + o_g + k_g)/10) + 10^(L_bg/10))``: its terms are
``t_g = o_g + k_g`` and ``t_bg = L_bg`` (dB).

Lden combines the day, evening and night surfaces with weights ``h_p`` (hours, 12/3/9 in
Denmark) and penalties ``P_p`` (0/5/10 dB), EU Directive 2002/49/EC Annex I, cell by cell:
``Lden_i = 10·log10(Σ_p (h_p/Σh)·10^((L_pi + P_p)/10))``. Since each ``10^(L_pi/10)`` is a sum
over groups of ``10^(B_gi/10)·10^((o_gp + k_gp)/10)`` plus the background, the sums swap:

    ``Lden_i = 10·log10(Σ_g 10^(B_gi/10)·C_g + C_bg)``
    ``C_g = Σ_p (h_p/Σh)·10^((o_gp + k_gp + P_p)/10)``
    ``C_bg = Σ_p (h_p/Σh)·10^((L_bg,p + P_p)/10)``

so the Lden surface is one scale and sum with ``t_g = 10·log10 C_g`` and ``t_bg = 10·log10
C_bg``: exactly the per-cell combination of the three fitted surfaces, at the cost of one. The
same terms give the estimate at a point and each group's part of the Lden there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.noisemap.scale import Fit

__all__ = ["Terms", "laeq_terms", "lden_terms", "only"]


@dataclass(frozen=True, slots=True)
class Terms:
    """``group_db[g]``: group ``g``'s term (dB, ``-inf``: silent); ``background_db``."""

    group_db: FloatArray
    background_db: float


def laeq_terms(offsets_db: FloatArray, fit: Fit) -> Terms:
    """Terms of a fitted LAeq period: ``o_g + k_g`` and the fitted background."""
    return Terms(np.asarray(offsets_db) + fit.gains_db, fit.background_db)


def _weighted(levels_db: FloatArray, weights: FloatArray) -> FloatArray:
    """``10·log10(Σ_p w_p·10^(L_p/10))`` along the last axis, ``-inf`` where all are."""
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(np.power(10.0, levels_db / 10.0) @ weights)
    return result


def lden_terms(
    periods: Sequence[Terms], hours: Sequence[float], penalties: Sequence[float]
) -> Terms:
    """Lden terms from the day, evening and night terms (module docstring), with weights
    ``hours`` (h) and ``penalties`` (dB) in the same order."""
    w = np.asarray(hours, dtype=np.float64) / float(np.sum(hours))
    pen = np.asarray(penalties, dtype=np.float64)
    groups = np.stack([t.group_db for t in periods], axis=1) + pen  # (groups, periods)
    background = np.array([t.background_db for t in periods]) + pen
    return Terms(_weighted(groups, w), float(_weighted(background, w)))


def only(terms: Terms, keep: Sequence[bool]) -> Terms:
    """``terms`` with the groups not in ``keep`` and the background silenced (``-inf``)."""
    group_db = np.where(np.asarray(keep, dtype=np.bool_), terms.group_db, -np.inf)
    return Terms(group_db, float("-inf"))
