"""Third-octave bands and frequency weightings: band levels in, A-weighted levels out.

* Band centres, IEC 61260-1:2014 (base-10 system, equations 1 and 2): the exact mid-band
  frequency of one-third-octave band ``x`` is ``f_m = f_r · G^(x/3)`` with the octave ratio
  ``G = 10^(3/10)`` and ``f_r = 1000 Hz``, i.e. ``f_m = 1000 · 10^(x/10)`` Hz for integer ``x``.
  Bands are labelled by their nominal mid-band frequencies, the ISO 266:1997 preferred
  frequencies (R10 series) that IEC 61260-1 tabulates.
* Weightings, IEC 61672-1:2013 Annex E: closed-form A and C weightings, defined at any
  frequency; IEC 61672-1 Table 3 lists them rounded to 0.1 dB at the nominal frequencies, the
  values having been computed at the exact base-10 frequencies.

Beware: python-acoustics' and acoustic-toolbox's constant ``EXACT_THIRD_OCTAVE_CENTER_FREQUENCIES``
is wrong (631-1349 Hz); their ``exact_center_frequency()`` agrees with ``third_octave_centres``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray

__all__ = [
    "A1000_DB",
    "C1000_DB",
    "NOMINAL_THIRD_OCTAVE_HZ",
    "POLE_F1_HZ",
    "POLE_F2_HZ",
    "POLE_F3_HZ",
    "POLE_F4_HZ",
    "REFERENCE_FREQUENCY_HZ",
    "a_weighting",
    "band_levels_to_laeq",
    "c_weighting",
    "exact_centre",
    "third_octave_centres",
]


REFERENCE_FREQUENCY_HZ = 1000.0
"""Reference frequency ``f_r`` of the band system. IEC 61260-1:2014 (equation 2)."""

NOMINAL_THIRD_OCTAVE_HZ: tuple[float, ...] = (
    10.0, 12.5, 16.0, 20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0,
    100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0, 500.0, 630.0, 800.0,
    1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0, 8000.0,
    10000.0, 12500.0, 16000.0, 20000.0,
)  # fmt: skip
"""Nominal one-third-octave mid-band frequencies, 10 Hz to 20 kHz (bands ``x = -20 .. 13``).

IEC 61260-1:2014's table of nominal mid-band frequencies (audio range, 25 Hz - 20 kHz),
extended down to 10 Hz with the same ISO 266:1997 R10 preferred numbers as IEC 61672-1:2013
Table 3, whose frequency column this is.
"""

_FIRST_BAND = -20
"""Band number ``x`` of the first entry of ``NOMINAL_THIRD_OCTAVE_HZ`` (10 Hz)."""

POLE_F1_HZ = 20.60
"""Pole frequency ``f1`` of the C and A weightings. IEC 61672-1:2013, Annex E."""
POLE_F2_HZ = 107.7
"""Pole frequency ``f2`` of the A weighting. IEC 61672-1:2013, Annex E."""
POLE_F3_HZ = 737.9
"""Pole frequency ``f3`` of the A weighting. IEC 61672-1:2013, Annex E."""
POLE_F4_HZ = 12194.0
"""Pole frequency ``f4`` of the C and A weightings. IEC 61672-1:2013, Annex E."""
A1000_DB = -2.000
"""A-weighting normalisation constant ``A1000`` (dB), so that A(1 kHz) = 0. IEC 61672-1 Annex E."""
C1000_DB = -0.062
"""C-weighting normalisation constant ``C1000`` (dB), so that C(1 kHz) = 0. IEC 61672-1 Annex E."""

_BAND_MATCH = 0.03
"""A band frequency may differ from its exact centre by 3 % (nominal values are within 1.2 %)."""


def exact_centre(band: npt.ArrayLike) -> FloatArray:
    """Exact base-10 one-third-octave mid-band frequency (Hz): ``1000 · 10^(x/10)``.

    IEC 61260-1:2014, equation 2 with ``b = 3`` and ``G = 10^(3/10)`` (equation 1). Band
    ``x = 0`` is 1 kHz, ``x = -15`` is 31.62 Hz (nominal 31.5), ``x = 10`` is 10 kHz.
    """
    x = np.asarray(band, dtype=np.float64)
    result: FloatArray = REFERENCE_FREQUENCY_HZ * np.power(10.0, x / 10.0)
    return result


def third_octave_centres(
    fmin: float = 25.0, fmax: float = 10000.0
) -> tuple[FloatArray, FloatArray]:
    """Exact and nominal one-third-octave mid-band frequencies (Hz) of the bands in a range.

    A band is included when its nominal frequency lies within ``[fmin, fmax]``; the range must
    be within 10 Hz - 20 kHz (the table ``NOMINAL_THIRD_OCTAVE_HZ``). Exact centres follow
    IEC 61260-1:2014 (base 10): ``f = 1000 · 10^(x/10)``; nominal ones are the table's
    (IEC 61260-1, ISO 266). The default 25 Hz - 10 kHz gives 27 bands, the first
    exact centre being ``1000 · 10^(-1.6)`` = 25.119 Hz for nominal 25 Hz.
    """
    if not 0 < fmin <= fmax:
        raise ValueError(f"need 0 < fmin <= fmax, got {fmin!r}, {fmax!r}")
    nominal = np.asarray(NOMINAL_THIRD_OCTAVE_HZ)
    if fmin < nominal[0] * (1 - 1e-9) or fmax > nominal[-1] * (1 + 1e-9):
        raise ValueError(f"bands are tabulated from {nominal[0]:g} to {nominal[-1]:g} Hz")
    chosen = np.flatnonzero((nominal >= fmin * (1 - 1e-9)) & (nominal <= fmax * (1 + 1e-9)))
    if chosen.size == 0:
        raise ValueError(f"no one-third-octave band between {fmin!r} and {fmax!r} Hz")
    return exact_centre(chosen + _FIRST_BAND), nominal[chosen].copy()


def _squared_frequencies(freqs: npt.ArrayLike) -> FloatArray:
    f = np.asarray(freqs, dtype=np.float64)
    if not (np.isfinite(f).all() and (f > 0).all()):
        raise ValueError("frequencies must be finite and positive (Hz)")
    result: FloatArray = f * f
    return result


def c_weighting(freqs: npt.ArrayLike) -> FloatArray:
    """C-weighting (dB) at ``freqs`` (Hz), IEC 61672-1:2013 Annex E:

    ``C(f) = 20·log10[f4²·f² / ((f² + f1²)(f² + f4²))] - C1000`` with ``f1 = 20.60 Hz``,
    ``f4 = 12194 Hz``, ``C1000 = -0.062 dB``. Examples (exact base-10 frequencies, Table 3):
    -3.0 dB at 31.62 Hz, 0.0 dB at 1 kHz, -4.4 dB at 10 kHz. Same shape as ``freqs``.
    """
    f2 = _squared_frequencies(freqs)
    ratio = POLE_F4_HZ**2 * f2 / ((f2 + POLE_F1_HZ**2) * (f2 + POLE_F4_HZ**2))
    result: FloatArray = 20.0 * np.log10(ratio) - C1000_DB
    return result


def a_weighting(freqs: npt.ArrayLike) -> FloatArray:
    """A-weighting (dB) at ``freqs`` (Hz), IEC 61672-1:2013 Annex E:

    ``A(f) = 20·log10[f4²·f⁴ / ((f² + f1²)·√(f² + f2²)·√(f² + f3²)·(f² + f4²))] - A1000`` with
    the poles ``f1 = 20.60``, ``f2 = 107.7``, ``f3 = 737.9``, ``f4 = 12194`` Hz and
    ``A1000 = -2.000 dB``. Evaluated at the exact base-10 band centres and rounded to 0.1 dB
    it reproduces IEC 61672-1 Table 3 (-19.1 dB at 100 Hz, +1.3 dB at 2.512 kHz, -2.5 dB at
    10 kHz); at the nominal frequencies it may differ by up to 0.3 dB (16 Hz: -56.4 vs
    -56.7), so weight bands at their exact centres. Same shape as ``freqs``.
    """
    f2 = _squared_frequencies(freqs)
    ratio = (POLE_F4_HZ**2 * f2 * f2) / (
        (f2 + POLE_F1_HZ**2)
        * np.sqrt(f2 + POLE_F2_HZ**2)
        * np.sqrt(f2 + POLE_F3_HZ**2)
        * (f2 + POLE_F4_HZ**2)
    )
    result: FloatArray = 20.0 * np.log10(ratio) - A1000_DB
    return result


def _band_centres(freqs: npt.ArrayLike) -> FloatArray:
    """Exact centres of the one-third-octave bands labelled by ``freqs`` (nominal or exact)."""
    f = np.asarray(freqs, dtype=np.float64).reshape(-1)
    if f.size == 0 or not (np.isfinite(f).all() and (f > 0).all()):
        raise ValueError("band frequencies must be finite and positive (Hz)")
    band = np.round(10.0 * np.log10(f / REFERENCE_FREQUENCY_HZ))
    exact = exact_centre(band)
    off = np.abs(f / exact - 1.0) > _BAND_MATCH
    if off.any():
        raise ValueError(f"{f[off][0]:g} Hz is not a one-third-octave band centre")
    if np.unique(band).size != band.size:
        raise ValueError("a band is given twice")
    return exact


def band_levels_to_laeq(lzeq_bands: npt.ArrayLike, freqs: npt.ArrayLike) -> float | FloatArray:
    """A-weighted total level (dB) of unweighted band levels: ``LA = 10·log10(Σ 10^((Lᵢ+Aᵢ)/10))``.

    ``lzeq_bands`` are Z-weighted (unweighted) band levels LZeq in dB, one per entry of
    ``freqs``: a 1-D spectrum gives a float, a 2-D array (time, bands) one level per row.
    ``freqs`` are one-third-octave (or octave) band centres, nominal (IEC 61260-1, as
    in the MQTT ``spectrum`` field) or exact; ``Aᵢ = a_weighting`` at the band's exact base-10
    centre, per IEC 61672-1 Table 3. Worked cases: a single 1 kHz band at 60 dB gives 60.0 dBA;
    60 dB at both 100 Hz (A = -19.145 dB) and 1 kHz gives ``10·log10(10^4.0855 + 10^6)``
    = 60.053 dBA.
    """
    levels = np.asarray(lzeq_bands, dtype=np.float64)
    weights = a_weighting(_band_centres(freqs))
    if levels.ndim not in (1, 2) or levels.shape[-1] != weights.size:
        raise ValueError(
            f"need levels of shape (bands,) or (rows, bands) with {weights.size} bands, "
            f"got {levels.shape}"
        )
    if not np.isfinite(levels).all():
        raise ValueError("band levels must be finite numbers (dB)")
    weighted = levels + weights
    # Factor out each row's loudest band so 10^(L/10) neither overflows nor loses the rest.
    top = weighted.max(axis=-1, keepdims=True)
    total = top[..., 0] + 10.0 * np.log10(np.sum(np.power(10.0, (weighted - top) / 10.0), axis=-1))
    if levels.ndim == 1:
        return float(total)
    result: FloatArray = total
    return result
