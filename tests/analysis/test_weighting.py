"""A-weighting and Fast time weighting against IEC 61672-1:2013 values, with generated signals
whose levels are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from noiselab.analysis.weighting import P_REF, AWeightedMeter, a_weighting_sos

FS = 48_000


def _tone(freq: float, rms_pa: float, seconds: float) -> np.ndarray:
    t = np.arange(int(FS * seconds)) / FS
    return rms_pa * math.sqrt(2) * np.sin(2 * math.pi * freq * t)


@pytest.mark.parametrize(
    ("freq", "iec_db", "minus", "plus"),
    [
        # IEC 61672-1 Table 3: nominal A-weighting and class 1 acceptance limits
        (31.5, -39.4, 1.5, 1.5),
        (100.0, -19.1, 1.0, 1.0),
        (1000.0, 0.0, 0.7, 0.7),
        (4000.0, 1.0, 1.0, 1.0),
        (10000.0, -2.5, 3.0, 2.0),
    ],
)
def test_a_weighting_is_class_1_at_48_khz(freq, iec_db, minus, plus):
    _, response = signal.sosfreqz(a_weighting_sos(FS), worN=[freq], fs=FS)
    gain = 20 * math.log10(abs(response[0]))
    assert iec_db - minus <= gain <= iec_db + plus


def test_a_weighting_matches_the_table_closely_where_warping_is_small():
    _, response = signal.sosfreqz(a_weighting_sos(FS), worN=[100.0, 1000.0], fs=FS)
    assert [round(20 * math.log10(abs(r)), 1) for r in response] == [-19.1, 0.0]


def test_a_1_khz_sine_reads_its_level_within_a_tenth_of_a_db():
    # 1 Pa RMS = 93.98 dB re 20 µPa; A-weighting is 0 dB at 1 kHz.
    meter = AWeightedMeter(FS)
    seconds = meter.process(_tone(1000.0, 1.0, 3.0))
    assert len(seconds) == 3
    expected = 20 * math.log10(1.0 / P_REF)
    assert round(expected, 2) == 93.98
    for second in seconds[1:]:  # the first second holds the filters' start
        assert abs(second.laeq - expected) <= 0.1
        assert abs(second.lafmax - expected) <= 0.1  # Fast weighting of a steady tone


def test_calibration_offset_from_a_94_db_calibrator():
    # A calibrator's 94.0 dB at 1 kHz recorded at an unknown gain: offset = 94 - measured.
    raw = AWeightedMeter(FS).process(_tone(1000.0, 0.1234, 2.0))[-1].laeq
    offset = 94.0 - raw
    calibrated = AWeightedMeter(FS, calibration_db=offset).process(_tone(1000.0, 0.1234, 2.0))
    assert abs(calibrated[-1].laeq - 94.0) <= 0.01


def test_blocks_give_the_same_levels_as_one_pass():
    noise = np.random.default_rng(3).normal(0, 0.2, FS * 3)
    whole = AWeightedMeter(FS).process(noise)
    meter = AWeightedMeter(FS)
    blocked = [
        level for i in range(0, noise.size, 1000) for level in meter.process(noise[i : i + 1000])
    ]
    assert len(blocked) == len(whole) == 3
    for a, b in zip(whole, blocked, strict=True):
        assert a.laeq == pytest.approx(b.laeq, abs=1e-9)
        assert a.lafmax == pytest.approx(b.lafmax, abs=1e-9)


@pytest.mark.parametrize(
    ("burst_ms", "iec_db", "tolerance"),
    # IEC 61672-1 Table 4: 4 kHz tone bursts, Fast, max level re the steady signal's level;
    # class 1 tolerances.
    [(200.0, -1.0, 0.5), (50.0, -4.8, 0.5), (2.0, -18.0, 1.0)],
)
def test_fast_tone_burst_response(burst_ms, iec_db, tolerance):
    steady = AWeightedMeter(FS).process(_tone(4000.0, 1.0, 2.0))[-1].laeq
    burst = np.zeros(FS * 2)
    n = int(FS * burst_ms / 1000)
    burst[FS : FS + n] = _tone(4000.0, 1.0, n / FS)
    seconds = AWeightedMeter(FS).process(burst)
    assert abs(seconds[1].lafmax - steady - iec_db) <= tolerance
    # SEL of the burst: steady level + 10·log10(duration / 1 s)
    sel = seconds[1].laeq  # LAeq,1s over the second holding the burst equals its SEL
    assert abs(sel - (steady + 10 * math.log10(burst_ms / 1000))) <= 0.2
