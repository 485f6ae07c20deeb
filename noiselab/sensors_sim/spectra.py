"""Third-octave spectra of the simulated sources, consistent with the A-weighted levels.

Each source has a fixed *normalised A-weighted* spectrum ``S_i`` (dB) over the one-third-octave
bands 100 Hz - 5 kHz (:data:`BANDS_HZ`), scaled so that ``Σ 10^(S_i/10) = 1``: a source with
A-weighted energy ``E`` (``10^(LAeq/10)``) puts ``E·10^(S_i/10)`` into band ``i``. The bands of
road, rail and background are added as energies per reading, and the unweighted band level is
``LZeq_i = 10·log10(Σ_s E_s·10^(S_s,i/10)) - A_i`` with ``A_i`` the A-weighting at the band's
exact centre (:func:`noiselab.analysis.spectra.a_weighting`). By construction
``band_levels_to_laeq(LZeq, BANDS_HZ)`` returns the A-weighted total, i.e. the LAeq.

* **Road**: EN 1793-3:1997 (Road traffic noise reducing devices - Part 3: Normalized traffic
  noise spectrum), Table 1, the A-weighted normalised traffic noise spectrum 100 Hz - 5 kHz.
  The values below are transcribed from secondary sources, not checked against the standard's
  text; they may differ from it by up to about 1 dB, and they are renormalised here to sum to
  exactly 0 dB(A). (The CEN catalogue lists EN 1793-3:1997 as withdrawn at the end of 2025;
  its spectrum is still the usual weighting for barrier single-number ratings.)
* **Rail**: an *illustrative* A-weighted shape for rolling noise of disc- and block-braked
  stock at 100-200 km/h, broad maximum at 800 Hz - 2 kHz (where wheel/rail roughness excites
  the rail and wheel). Not taken from a standard (EN 16272-3-1 gives a normalised railway
  spectrum for barrier testing; it was not available to transcribe).
* **Background**: *illustrative* distant traffic: the road shape with a high-frequency roll-off
  (air absorption and ground over ~1 km), plus nothing tonal.

**Barrier insertion loss per band** (:func:`barrier_band_il`): a thin screen's attenuation grows
with the Fresnel number ``N = 2δ/λ ∝ f``; Maekawa's (1968) chart is approximated by
``IL(f) = 10·log10(3 + 20·N(f))`` with ``N(f) = N_1k·f/1000``. The shape (``N_1k`` = 1 by
default, a path difference of 0.17 m) is then shifted by one constant so that the A-weighted
broadband insertion loss *for the road spectrum* equals the configured value exactly:
``Σ w_i·10^(-IL_i/10) = 10^(-IL/10)`` with ``w_i = 10^(S_road,i/10)``. Hence the treated
site's A-weighted road level stays exactly ``road - IL`` as in the broadband model.
"""

from __future__ import annotations

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.spectra import a_weighting, third_octave_centres

__all__ = [
    "BACKGROUND_SPECTRUM_DB",
    "BANDS_EXACT_HZ",
    "BANDS_HZ",
    "RAIL_SPECTRUM_DB",
    "ROAD_SPECTRUM_DB",
    "band_energies",
    "barrier_band_il",
    "lzeq_spectrum",
]


_EXACT, _NOMINAL = third_octave_centres(100.0, 5000.0)
BANDS_HZ: FloatArray = _NOMINAL
"""Nominal one-third-octave mid-band frequencies 100 Hz - 5 kHz (18 bands), the range of
EN 1793-3. Use these in the MQTT ``spectrum`` field and with ``band_levels_to_laeq``."""
BANDS_EXACT_HZ: FloatArray = _EXACT
"""Exact base-10 centres of :data:`BANDS_HZ` (IEC 61260-1)."""

_A_WEIGHT: FloatArray = a_weighting(_EXACT)


def _normalise(values: list[float]) -> FloatArray:
    s = np.asarray(values, dtype=np.float64)
    result: FloatArray = s - 10.0 * np.log10(np.sum(10.0 ** (s / 10.0)))
    return result


# fmt: off
ROAD_SPECTRUM_DB: FloatArray = _normalise([
    -20.0, -20.0, -18.0, -16.0, -15.0, -14.0, -13.0, -12.0, -11.0,
    -9.0, -8.0, -9.0, -10.0, -11.0, -13.0, -15.0, -16.0, -18.0,
])
"""Normalised A-weighted road traffic spectrum (dB, Σ 10^(S/10) = 1), 100 Hz - 5 kHz:
EN 1793-3:1997 Table 1 as transcribed (see the module docstring), renormalised."""

RAIL_SPECTRUM_DB: FloatArray = _normalise([
    -24.0, -23.0, -22.0, -21.0, -19.0, -17.0, -15.0, -13.0, -11.0,
    -9.0, -8.0, -8.0, -8.0, -9.0, -11.0, -13.0, -16.0, -19.0,
])
"""Normalised A-weighted rail pass-by spectrum (dB), 100 Hz - 5 kHz. Illustrative."""
# fmt: on

BACKGROUND_SPECTRUM_DB: FloatArray = _normalise(
    list(ROAD_SPECTRUM_DB - 4.0 * np.maximum(np.log2(_EXACT / 500.0), 0.0))
)
"""Normalised A-weighted residual spectrum (dB): the road shape rolled off by 4 dB per octave
above 500 Hz (distant traffic). Illustrative."""


def barrier_band_il(insertion_loss_db: float, *, fresnel_1k: float = 1.0) -> FloatArray:
    """Insertion loss (dB) per band of :data:`BANDS_HZ` whose A-weighted effect on the road
    spectrum is exactly ``insertion_loss_db``: the Maekawa shape
    ``10·log10(3 + 20·N_1k·f/1000)`` shifted by a constant (see the module docstring). Larger
    at high frequencies; a 6 dB barrier gives about 0.4 dB at 100 Hz, 7 dB at 1 kHz and
    13.6 dB at 5 kHz."""
    shape = 10.0 * np.log10(3.0 + 20.0 * fresnel_1k * _EXACT / 1000.0)
    w = 10.0 ** (ROAD_SPECTRUM_DB / 10.0)
    shift = insertion_loss_db + 10.0 * float(np.log10(np.sum(w * 10.0 ** (-shape / 10.0))))
    result: FloatArray = shape + shift
    return result


def band_energies(energy: FloatArray, spectrum_db: FloatArray) -> FloatArray:
    """A-weighted band energies, shape ``(n, bands)``, of A-weighted energies ``energy`` (n,)
    with normalised spectrum ``spectrum_db``."""
    result: FloatArray = energy[:, None] * 10.0 ** (spectrum_db / 10.0)[None, :]
    return result


def lzeq_spectrum(a_band_energy: FloatArray, laeq_target: FloatArray | None = None) -> FloatArray:
    """Unweighted band levels LZeq (dB), shape ``(n, bands)``, of A-weighted band energies.

    With ``laeq_target`` (n,) every row is shifted by one constant so that its A-weighted total
    equals the target exactly (used to match the reported LAeq, rounded to 0.1 dB)."""
    with np.errstate(divide="ignore"):
        weighted = 10.0 * np.log10(a_band_energy)
    if laeq_target is not None:
        total = 10.0 * np.log10(np.sum(a_band_energy, axis=1))
        weighted = weighted + (laeq_target - total)[:, None]
    result: FloatArray = weighted - _A_WEIGHT[None, :]
    return result
