"""Samples in, contract readings out: one reading per completed second.

Calibration convention: a sample value of 1.0 (full scale) is taken as 1 Pa, so a full-scale
sine (RMS 1/√2 FS) reads 90.97 dB re 20 µPa before calibration; ``calibration_db`` (the
``--calibration-offset`` that ``noiselab sensor calibrate`` prints) is added to every level.

Reading ``k`` (counted from 0) covers ``[t0 + k, t0 + k + 1)`` where ``t0`` is the time of the
first sample; the levels are :class:`~noiselab.analysis.weighting.AWeightedMeter`'s LAeq,1s,
LAFmax and LAFmin, and with spectra the third-octave LZeq of
``noiselab.analysis.octave.ThirdOctaveMeter``, rounded to 0.01 dB. A trailing part second is
not reported. The first reading of a run has no ``lafmin``: the Fast detector starts from
zero, so that second's minimum is the detector's rise, not the sound. Levels below 0 dB re
20 µPa (digital silence, a dead microphone) are reported as 0.0, the lowest value the MQTT
contract accepts, rather than have the reading quarantined.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy.typing as npt

from noiselab.analysis.decibels import round_db
from noiselab.analysis.weighting import AWeightedMeter, SecondLevels

__all__ = ["ReadingMaker", "level"]


def level(value: float) -> float:
    """``value`` in dB rounded to 0.01 dB, and at least 0.0 (see the module docstring)."""
    return max(0.0, round_db(value))


class ReadingMaker:
    """Feeds blocks to the meters and returns finished readings (without ``seq``, which the
    buffer assigns). ``t0`` is the Unix time of the first sample, given with the first block."""

    def __init__(self, fs: int, calibration_db: float = 0.0, *, spectra: bool = False) -> None:
        self.fs = fs
        self._meter = AWeightedMeter(fs, calibration_db=calibration_db)
        self._bands: Any = None
        self.bands_hz: tuple[float, ...] = ()
        if spectra:
            from noiselab.analysis.octave import (
                DEFAULT_BANDS_HZ,
                MAX_EDGE_FRACTION,
                ThirdOctaveMeter,
                band_edges,
            )

            # A sound card below ~25 kHz cannot measure the top bands: report those it can.
            bands = tuple(f for f in DEFAULT_BANDS_HZ if band_edges(f)[1] <= MAX_EDGE_FRACTION * fs)
            self._bands = ThirdOctaveMeter(fs, calibration_db=calibration_db, bands_hz=bands)
            self.bands_hz = tuple(float(f) for f in bands)
        self._levels: deque[SecondLevels] = deque()
        self._spectra: deque[tuple[float, ...]] = deque()
        self._done = 0

    def process(self, block: npt.ArrayLike, t0: float) -> list[dict[str, Any]]:
        """The readings of the seconds ``block`` completes."""
        self._levels.extend(self._meter.process(block))
        if self._bands is not None:
            self._spectra.extend(self._bands.process(block))
        out: list[dict[str, Any]] = []
        # Both meters count whole seconds from the first sample, so their k-th results match.
        while self._levels and (self._bands is None or self._spectra):
            second = self._levels.popleft()
            reading: dict[str, Any] = {
                "ts": round(t0 + self._done, 3),
                "duration": 1,
                "laeq": level(second.laeq),
                "lafmax": level(second.lafmax),
            }
            if self._done:
                reading["lafmin"] = level(second.lafmin)
            if self._bands is not None:
                bands = self._spectra.popleft()
                reading["spectrum"] = {
                    "bands_hz": list(self.bands_hz),
                    "lzeq": [level(v) for v in bands],
                }
            out.append(reading)
            self._done += 1
        return out
