"""Calibration from a recorded calibrator tone, with generated tones whose levels are known.

Convention: sample value 1.0 = 1 Pa before the offset, so a sine of RMS 0.05 FS reads
20·log10(0.05 / 20e-6) = 67.9588 dB uncalibrated, and a 94 dB calibrator recorded at that
amplitude needs an offset of 94 - 67.9588 = 26.0412 dB.
"""

from __future__ import annotations

import math
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from noiselab.edge.calibrate import CalibrationError, calibrate

FS = 48_000


def tone(freq: float, rms: float, seconds: float, *, noise: float = 0.0, seed: int = 0):
    t = np.arange(round(FS * seconds)) / FS
    x = rms * math.sqrt(2) * np.sin(2 * math.pi * freq * t)
    return x + np.random.default_rng(seed).normal(0.0, noise, t.size) if noise else x


def write_wav16(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(FS)
        out.writeframes(np.round(x * 32768).astype("<i2").tobytes())


def test_offset_of_a_sine_at_rms_0_05_fs_with_a_little_noise():
    assert round(20 * math.log10(0.05 / 20e-6), 2) == 67.96
    result = calibrate(tone(1000.0, 0.05, 6.0, noise=0.0005), FS, reference_db=94.0)
    assert abs(result.offset_db - 26.04) <= 0.05
    assert result.measured_db == pytest.approx(67.96, abs=0.01)
    assert result.seconds == 4  # six seconds, the first and the last skipped
    assert result.spread_db < 0.05
    assert result.frequency_hz == pytest.approx(1000.0, abs=0.5)


def test_a_250_hz_pistonphone_at_114_db():
    """Z level, so the frequency does not matter: 114 - 20·log10(0.2/20e-6) = 34.00 dB."""
    result = calibrate(tone(250.0, 0.2, 4.0), FS, reference_db=114.0, frequency_hz=250.0)
    assert result.offset_db == 34.0


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        # 1 kHz stays dominant but holds 0.05² / (0.05² + 0.03²) = 74 % of the power
        (tone(1000.0, 0.05, 6.0) + tone(1500.0, 0.03, 6.0), "only 74% of the power"),
        (tone(1100.0, 0.05, 6.0), "dominant frequency is 1100.0 Hz"),
        (np.concatenate([tone(1000.0, 0.05, 3.0), tone(1000.0, 0.06, 3.0)]), "not steady"),
        (tone(1000.0, 0.05, 2.5), "lasts 2.5 s"),
    ],
    ids=["two-tone", "off-frequency", "level-step", "too-short"],
)
def test_unusable_recordings_are_refused(signal, reason):
    with pytest.raises(CalibrationError, match=reason):
        calibrate(signal, FS)


def test_a_sweep_is_refused():
    """A 500 Hz-2 kHz logarithmic sweep has a constant level but no single tone."""
    t = np.arange(6 * FS) / FS
    k = math.log(4.0) / 6.0
    phase = 2 * math.pi * 500.0 * (np.exp(k * t) - 1) / k
    with pytest.raises(CalibrationError, match="not a single steady tone"):
        calibrate(0.07 * np.sin(phase), FS)


def run_calibrate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "noiselab", "sensor", "calibrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.process
def test_the_command_prints_the_option_to_use(tmp_path):
    write_wav16(tmp_path / "cal.wav", tone(1000.0, 0.05, 5.0, noise=0.0005))
    done = run_calibrate(tmp_path, "--wav", "cal.wav", "--reference-db", "94")
    assert done.returncode == 0, done.stderr
    assert "noiselab sensor --calibration-offset 26.04" in done.stdout
    assert "1000.0 Hz" in done.stdout


@pytest.mark.process
def test_the_command_refuses_a_short_recording_cleanly(tmp_path):
    write_wav16(tmp_path / "short.wav", tone(1000.0, 0.05, 2.0))
    done = run_calibrate(tmp_path, "--wav", "short.wav")
    assert done.returncode == 2
    assert "noiselab: the recording lasts 2.0 s" in done.stderr
    assert "Traceback" not in done.stderr
