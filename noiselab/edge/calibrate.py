"""The calibration offset from a recording of an acoustic calibrator.

A sound calibrator (IEC 60942) puts a steady tone of known level on the microphone, usually
94.0 dB re 20 µPa (1 Pa RMS) at 1 kHz. With the client's convention that a sample value of
1.0 is 1 Pa, the recording's uncalibrated level is ``L = 20·log10(rms / 20 µPa)`` and the
offset that makes it read the calibrator's level is ``offset = L_ref - L``.

The level is the unweighted (Z) level of the tone, which is what a calibrator states, so the
offset does not depend on the frequency weighting. At 1 kHz the A-weighting is 0 dB by
definition (IEC 61672-1), and the client's digital A filter is normalised to exactly 0 dB
there, so after calibration the A-weighted LAeq of the calibrator tone reads the reference
level too (to 0.01 dB; the tests check it through the whole client within 0.1 dB).

Only the steady middle of the recording is used: the first and last second are skipped (the
calibrator being put on and taken off). The recording is refused when it is shorter than
3 s, when the 1-s levels of the middle spread by more than 0.2 dB, when the dominant
frequency is more than 5 % from the expected one, or when less than 90 % of the signal's
power lies within ±5 % of the dominant frequency (two tones, a sweep, noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.decibels import round_db
from noiselab.analysis.weighting import P_REF
from noiselab.edge.sources import FloatArray
from noiselab.errors import NoiselabError

__all__ = [
    "MAX_FREQUENCY_ERROR",
    "MAX_SPREAD_DB",
    "MIN_DURATION_S",
    "MIN_TONE_SHARE",
    "CalibrationError",
    "CalibrationResult",
    "calibrate",
]

MIN_DURATION_S = 3.0
"""Shortest recording accepted: one skipped second each side and at least one measured."""
MAX_SPREAD_DB = 0.2
"""Largest accepted difference between the loudest and quietest 1-s level of the middle."""
MAX_FREQUENCY_ERROR = 0.05
"""Largest accepted relative distance of the dominant frequency from the expected one."""
MIN_TONE_SHARE = 0.9
"""Smallest accepted share of the power within ±5 % of the dominant frequency."""


class CalibrationError(NoiselabError):
    """The recording is not a usable calibrator tone; the message says why."""


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """``offset_db`` to add (``--calibration-offset``), the uncalibrated level of the tone,
    the spread (max - min) of its 1-s levels, the dominant frequency and the share of the
    power in the tone, over ``seconds`` measured seconds."""

    offset_db: float
    measured_db: float
    spread_db: float
    frequency_hz: float
    tone_share: float
    seconds: int


def calibrate(
    samples: FloatArray, fs: int, *, reference_db: float = 94.0, frequency_hz: float = 1000.0
) -> CalibrationResult:
    """The offset that makes the calibrator tone in ``samples`` (full scale, 1.0 = 1 Pa)
    read ``reference_db``; ``CalibrationError`` when the recording is not a steady tone."""
    seconds = samples.size // fs
    if samples.size < MIN_DURATION_S * fs:
        raise CalibrationError(
            f"the recording lasts {samples.size / fs:.1f} s; record the calibrator for at least "
            f"{MIN_DURATION_S:.0f} s (the first and last second are skipped)"
        )
    middle = samples[fs : (seconds - 1) * fs]
    per_second = middle.reshape(-1, fs)
    levels = [_level(np.sqrt(np.mean(row * row))) for row in per_second]
    spread = max(levels) - min(levels)
    measured = _level(math.sqrt(float(np.mean(middle * middle))))
    dominant, share = _dominant(middle, fs)
    if spread > MAX_SPREAD_DB:
        raise CalibrationError(
            f"the level is not steady: its 1-s values spread by {spread:.2f} dB "
            f"(at most {MAX_SPREAD_DB} dB); hold the calibrator firmly on the microphone"
        )
    if abs(dominant - frequency_hz) > MAX_FREQUENCY_ERROR * frequency_hz:
        raise CalibrationError(
            f"the dominant frequency is {dominant:.1f} Hz, not {frequency_hz:g} Hz "
            f"(within {MAX_FREQUENCY_ERROR:.0%}); is this a recording of the calibrator?"
        )
    if share < MIN_TONE_SHARE:
        raise CalibrationError(
            f"only {share:.0%} of the power is in the {dominant:.0f} Hz tone (at least "
            f"{MIN_TONE_SHARE:.0%}); the recording is not a single steady tone"
        )
    return CalibrationResult(
        offset_db=round_db(reference_db - measured),
        measured_db=measured,
        spread_db=spread,
        frequency_hz=dominant,
        tone_share=share,
        seconds=len(levels),
    )


def _level(rms: float) -> float:
    return 20.0 * math.log10(max(float(rms), 1e-15) / P_REF)


def _dominant(x: FloatArray, fs: int) -> tuple[float, float]:
    """The frequency of the strongest spectral peak (Hann window, parabolic interpolation
    of the log magnitude around the peak bin) and the share of the power within ±5 % of it."""
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    power[0] = 0.0  # a DC offset of the sound card is no tone
    k = int(np.argmax(power))
    bin_hz = fs / x.size
    offset = 0.0
    if 0 < k < power.size - 1:
        a, b, c = (math.log(max(float(v), 1e-300)) for v in power[k - 1 : k + 2])
        denominator = a - 2 * b + c
        offset = 0.5 * (a - c) / denominator if denominator else 0.0
    dominant = (k + offset) * bin_hz
    freqs = np.arange(power.size) * bin_hz
    near = np.abs(freqs - dominant) <= max(MAX_FREQUENCY_ERROR * dominant, 2 * bin_hz)
    total = float(np.sum(power))
    share = float(np.sum(power[near])) / total if total > 0 else 0.0
    return dominant, share
