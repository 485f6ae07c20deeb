"""One-third-octave band filters of sampled sound pressure, per IEC 61260-1:2014 (class 1).

Signals are sound pressure in pascals (after calibration) at sample rate ``fs`` in Hz; levels
are LZeq (unweighted) in dB re 20 µPa.

Bands: base-10 system, bandwidth designator ``b = 3``. The exact mid-band frequency of band
``x`` is ``f_m = f_r · G^(x/3)`` with ``G = 10^(3/10)`` and ``f_r = 1000 Hz`` (IEC 61260-1,
equations 1 and 2; :func:`noiselab.analysis.spectra.exact_centre`), and its edges (also
IEC 61260-1) are ``f_1 = f_m · G^(-1/6)`` and ``f_2 = f_m · G^(+1/6)``, so adjacent bands share
an edge: the 1 kHz band is 891.25-1122.02 Hz.

Filters: each band is a Butterworth band-pass of order 3 per side (6th order, three second-order
sections) with its -3 dB points on the exact edges, from the bilinear transform with the edges
pre-warped. The analog design meets the class 1 relative attenuation limits of IEC 61260-1:2014
Table 1 with room (3.0 dB at the edges against 1.2-5.3 dB allowed, 21 dB at ``Ω = 1.294`` against
16.6 dB, 46 dB at ``Ω = 1.882`` against 40.5 dB, 0.6 dB at ``Ω = 1.087`` against at most 1.4 dB)
and its effective bandwidth is ``(π/6)/sin(π/6)`` = +0.20 dB above the nominal one (5.12 allows
±0.4 dB). :func:`band_response_db` gives the digital chain's response for checking.

Multirate: a band runs at ``fs / D``, ``D = 2^k`` the largest power of two that leaves its upper
edge at or below a quarter of the reduced rate (``f_2 ≤ fs / (4·D)``); bands with ``f_2`` above
``fs / 8`` run at ``fs``. The signal reaches rate ``fs / 2^k`` through ``k`` halving stages,
each an elliptic low-pass (order 7, 0.01 dB ripple up to a quarter of its input Nyquist, 90 dB
from the output Nyquist on) followed by dropping every other sample, so no band below
``fs / 8`` is filtered at the full rate: at 48 kHz the 25 Hz band runs at 187.5 Hz. The 90 dB
stop band keeps aliases 20 dB under the deepest class 1 limit (70 dB). Low bands are then both
cheap and well conditioned: a 25 Hz band designed at 48 kHz would have poles within 2e-4 of the
unit circle.

Bands whose upper edge lies above ``0.45 · fs`` cannot be measured (the anti-aliasing filter of
the converter and the bilinear warping eat into them) and are refused with :class:`ValueError`.

:class:`ThirdOctaveMeter` keeps every filter's state between blocks, so a signal processed block
by block gives the levels of the same signal processed at once. Seconds are counted from the
first sample, as in :class:`noiselab.analysis.weighting.AWeightedMeter`; a decimated sample
belongs to the second of the input sample it was taken at. The band-passes' group delay at
mid-band (0.11 s at 25 Hz, 2.8 ms at 1 kHz) is not compensated: a level step shows in a band
that much later, and the first second after start-up holds the filters' transients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import signal

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.spectra import (
    NOMINAL_THIRD_OCTAVE_HZ,
    third_octave_centres,
)

__all__ = [
    "DEFAULT_BANDS_HZ",
    "MAX_EDGE_FRACTION",
    "OCTAVE_RATIO",
    "P_REF",
    "ThirdOctaveMeter",
    "band_decimation",
    "band_edges",
    "band_response_db",
    "third_octave_sos",
]


P_REF = 20e-6
"""Reference sound pressure, Pa."""
OCTAVE_RATIO = 10.0 ** (3.0 / 10.0)
"""Octave frequency ratio ``G`` of the base-10 system. IEC 61260-1:2014, equation 1."""
MAX_EDGE_FRACTION = 0.45
"""Highest upper band edge accepted, as a fraction of the sample rate."""

DEFAULT_BANDS_HZ: tuple[float, ...] = NOMINAL_THIRD_OCTAVE_HZ[
    NOMINAL_THIRD_OCTAVE_HZ.index(25.0) : NOMINAL_THIRD_OCTAVE_HZ.index(10000.0) + 1
]
"""Nominal mid-band frequencies of the edge client's bands: 25 Hz to 10 kHz, 27 bands."""

_MIN_RUN = 8192
"""Samples gathered before the filters run (unless a second completes first): each filter call
costs tens of microseconds of Python overhead, whatever its length."""
_BAND_ORDER = 3
"""Butterworth order per side of each band-pass (6th order in all)."""
_HALF_BAND_EDGE = 0.25
"""Each halving stage passes up to ``_HALF_BAND_EDGE`` of its input Nyquist frequency."""
_ANTI_ALIAS_SOS: FloatArray = np.asarray(
    signal.ellip(7, 0.01, 90.0, _HALF_BAND_EDGE, output="sos"), dtype=np.float64
)
"""Low-pass of every halving stage, normalised to its input rate (Nyquist = 1)."""


def band_edges(nominal_hz: float) -> tuple[float, float]:
    """Exact lower and upper edge (Hz) of the one-third-octave band labelled ``nominal_hz``.

    ``f_1 = f_m · G^(-1/6)`` and ``f_2 = f_m · G^(+1/6)`` with ``f_m`` the exact mid-band
    frequency (IEC 61260-1:2014 band edges); for the 1 kHz band ``1000 · 10^(∓0.05)``
    = 891.25 and 1122.02 Hz. ``nominal_hz`` must be one of ``NOMINAL_THIRD_OCTAVE_HZ``.
    """
    f_m = _exact_centre(nominal_hz)
    half = OCTAVE_RATIO ** (1.0 / (2 * 3))
    return f_m / half, f_m * half


def band_decimation(fs: float, nominal_hz: float) -> int:
    """The factor ``D`` (a power of two) by which the band's signal is decimated: the band
    filter runs at ``fs / D``. ``D = 1`` when the upper edge is above ``fs / 8``."""
    _, upper = _checked_edges(fs, nominal_hz)
    factor = 1
    while upper <= fs / (4 * factor * 2):
        factor *= 2
    return factor


def third_octave_sos(fs: float, nominal_hz: float) -> FloatArray:
    """Second-order sections of the band-pass of band ``nominal_hz``, designed at the rate
    the band runs at, ``fs / band_decimation(fs, nominal_hz)`` Hz (not at ``fs``).

    A Butterworth band-pass of order 3 per side with -3 dB at the exact band edges (pre-warped
    bilinear transform). Raises :class:`ValueError` when the upper edge is above
    ``0.45 · fs``.
    """
    lower, upper = _checked_edges(fs, nominal_hz)
    rate = fs / band_decimation(fs, nominal_hz)
    sos = signal.butter(_BAND_ORDER, [lower, upper], btype="bandpass", output="sos", fs=rate)
    return np.asarray(sos, dtype=np.float64)


def band_response_db(fs: float, nominal_hz: float, freqs: npt.ArrayLike) -> FloatArray:
    """Gain (dB) of band ``nominal_hz`` of :class:`ThirdOctaveMeter` for steady tones at
    ``freqs`` (Hz, within ``0 .. fs/2``): halving low-passes, decimations and band-pass.

    A tone stays a tone through a low-pass; halving the rate folds its frequency ``f`` into
    ``[0, rate/2]`` (``rate - f`` above the new Nyquist), so the gain is the product of each
    stage's gain at the tone's frequency at that stage. The relative attenuation of IEC
    61260-1:2014 is the negative of this gain (the design goal is 0 dB in the pass band).
    """
    f = np.asarray(freqs, dtype=np.float64)
    if not (np.isfinite(f).all() and (f >= 0).all() and (f <= fs / 2).all()):
        raise ValueError(f"tone frequencies must lie within 0 .. {fs / 2:g} Hz")
    sos = third_octave_sos(fs, nominal_hz)
    rate = float(fs)
    gain = np.ones_like(f)
    for _ in range(int(math.log2(band_decimation(fs, nominal_hz)))):
        _, h = signal.sosfreqz(_ANTI_ALIAS_SOS, worN=f.ravel(), fs=rate)
        gain *= np.abs(h).reshape(f.shape)
        rate /= 2
        f = np.where(f > rate / 2, rate - f, f)
    _, h = signal.sosfreqz(sos, worN=f.ravel(), fs=rate)
    gain *= np.abs(h).reshape(f.shape)
    result: FloatArray = 20.0 * np.log10(np.maximum(gain, 1e-300))
    return result


def _exact_centre(nominal_hz: float) -> float:
    exact, _ = third_octave_centres(nominal_hz, nominal_hz)
    if exact.size != 1:
        raise ValueError(f"{nominal_hz!r} Hz is not a nominal one-third-octave band centre")
    return float(exact[0])


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _checked_edges(fs: float, nominal_hz: float) -> tuple[float, float]:
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"sample rate must be a positive number of Hz, got {fs!r}")
    lower, upper = band_edges(nominal_hz)
    if upper > MAX_EDGE_FRACTION * fs:
        raise ValueError(
            f"the {nominal_hz:g} Hz band (upper edge {upper:.0f} Hz) cannot be measured at "
            f"{fs:g} Hz: its upper edge must be at most {MAX_EDGE_FRACTION:g} x the sample rate "
            f"({MAX_EDGE_FRACTION * fs:.0f} Hz)"
        )
    return lower, upper


@dataclass
class _Stage:
    """The bands that run at ``fs / 2^k``, their filters and states, and the state of the
    halving low-pass that feeds them (unused at ``k = 0``)."""

    k: int
    bands: list[int]
    sos: list[FloatArray]
    zi: list[FloatArray]
    lp_zi: FloatArray
    count: int = 0
    """Samples produced at this stage's rate so far."""


@dataclass
class ThirdOctaveMeter:
    """A one-third-octave band analyser: feed blocks of pressure (Pa) with :meth:`process`, get
    one tuple of LZeq band levels (dB re 20 µPa, in the order of ``bands_hz``) per completed
    second. ``calibration_db`` is added to every level; levels are not rounded."""

    fs: int
    calibration_db: float = 0.0
    bands_hz: tuple[float, ...] = DEFAULT_BANDS_HZ
    _stages: list[_Stage] = field(init=False, repr=False)
    _sums: list[FloatArray] = field(init=False, default_factory=list, repr=False)
    _done: int = field(init=False, default=0, repr=False)
    _pending: list[FloatArray] = field(init=False, default_factory=list, repr=False)
    _received: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.fs, bool) or int(self.fs) != self.fs or self.fs <= 0:
            raise ValueError(f"sample rate must be a positive whole number of Hz, got {self.fs!r}")
        self.fs = int(self.fs)
        self.bands_hz = tuple(float(f) for f in self.bands_hz)
        if not self.bands_hz:
            raise ValueError("need at least one band")
        exact = [_exact_centre(f) for f in self.bands_hz]
        if len(set(exact)) != len(exact):
            raise ValueError("a band is given twice")
        depth = [int(math.log2(band_decimation(self.fs, f))) for f in self.bands_hz]
        self._stages = []
        for k in range(max(depth) + 1):
            members = [i for i, d in enumerate(depth) if d == k]
            sos = [third_octave_sos(self.fs, self.bands_hz[i]) for i in members]
            self._stages.append(
                _Stage(
                    k=k,
                    bands=members,
                    sos=sos,
                    zi=[np.zeros((s.shape[0], 2)) for s in sos],
                    lp_zi=np.zeros((_ANTI_ALIAS_SOS.shape[0], 2)),
                )
            )

    def process(self, block: npt.ArrayLike) -> list[tuple[float, ...]]:
        """Filter ``block`` (Pa) and return the band levels of every second it completes."""
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"need a 1-D block of samples, got shape {x.shape}")
        self._pending.append(x)
        self._received += x.size
        waiting = self._received - self._stages[0].count
        if waiting < _MIN_RUN and self._received // self.fs == self._done:
            return []
        self._run(np.concatenate(self._pending))
        self._pending = []
        out: list[tuple[float, ...]] = []
        while self._done < self._received // self.fs:
            out.append(self._levels(self._done, self._sums.pop(0)))
            self._done += 1
        return out

    def _run(self, x: FloatArray) -> None:
        """Run every filter over ``x``, the samples that follow the last run's."""
        for stage in self._stages:
            if stage.k > 0:
                before = self._stages[stage.k - 1].count - x.size
                if x.size:
                    x, stage.lp_zi = signal.sosfilt(_ANTI_ALIAS_SOS, x, zi=stage.lp_zi)
                x = x[before % 2 :: 2]  # keep the samples at even indices of the faster rate
            self._accumulate(stage, x)
            stage.count += x.size

    def _accumulate(self, stage: _Stage, x: FloatArray) -> None:
        """Add the squared band outputs of ``x`` to the sums of the seconds they fall in."""
        if not stage.bands or not x.size:
            return
        squared = np.empty((len(stage.bands), x.size))
        for row, (sos, zi) in enumerate(zip(stage.sos, stage.zi, strict=True)):
            y, stage.zi[row] = signal.sosfilt(sos, x, zi=zi)
            squared[row] = y * y
        step = 1 << stage.k
        first, last = stage.count, stage.count + x.size - 1
        seconds = range(first * step // self.fs, last * step // self.fs + 1)
        # Stage sample j is input sample j·2^k, so second s starts at stage sample ceil(s·fs/2^k).
        starts = [max(0, _ceil_div(s * self.fs, step) - first) for s in seconds]
        totals = np.add.reduceat(squared, starts, axis=1)
        for column, second in enumerate(seconds):
            while len(self._sums) <= second - self._done:
                self._sums.append(np.zeros(len(self.bands_hz)))
            self._sums[second - self._done][stage.bands] += totals[:, column]

    def _levels(self, second: int, sums: FloatArray) -> tuple[float, ...]:
        levels = []
        for stage in self._stages:
            step = 1 << stage.k
            count = _ceil_div((second + 1) * self.fs, step) - _ceil_div(second * self.fs, step)
            for band in stage.bands:
                mean_square = max(float(sums[band]) / count, 1e-30)
                levels.append((band, 10.0 * math.log10(mean_square / P_REF**2)))
        return tuple(level + self.calibration_db for _, level in sorted(levels))
