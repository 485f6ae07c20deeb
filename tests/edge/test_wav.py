"""WavSource: 16/24/32-bit PCM files written with the stdlib ``wave`` module read back exactly,
stereo gives its first channel, and files the sensor cannot read are refused clearly."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from noiselab.edge.sources import AudioError, WavSource, pcm_to_float

FS = 48_000


def pcm_bytes(ints: np.ndarray, width: int) -> bytes:
    """Little-endian signed PCM of ``width`` bytes per sample (interleaved already)."""
    if width == 3:
        return ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return ints.astype(f"<i{width}").tobytes()


def write_wav(path: Path, ints: np.ndarray, width: int, channels: int = 1, fs: int = FS) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(fs)
        out.writeframes(pcm_bytes(ints, width))


def read_all(source: WavSource) -> np.ndarray:
    try:
        return np.concatenate(list(source.blocks(threading.Event())))
    finally:
        source.close()


@pytest.mark.parametrize("width", [2, 3, 4])
def test_wav_source_reads_pcm_back_exactly(tmp_path, width):
    """A 440 Hz sine at 0.9 FS plus both extremes: sample s of b bits reads s / 2^(b-1)."""
    full = 2 ** (8 * width - 1)
    t = np.arange(FS + 123) / FS
    ints = np.round(0.9 * np.sin(2 * np.pi * 440 * t) * full).astype(np.int64)
    ints[:2] = [-full, full - 1]
    write_wav(tmp_path / "x.wav", ints, width)
    source = WavSource(tmp_path / "x.wav")
    assert source.fs == FS
    got = read_all(source)
    np.testing.assert_array_equal(got, ints / full)
    assert got[0] == -1.0
    assert got[1] == (full - 1) / full
    np.testing.assert_allclose(got[2:], 0.9 * np.sin(2 * np.pi * 440 * t[2:]), atol=1 / full)


def test_pcm_decoding_of_hand_written_bytes():
    """Two's complement by hand: 24-bit 0x800000 = -1.0, 0x7FFFFF = 1 - 2^-23, 0xFFFFFF = -2^-23;
    16-bit 0x8000 = -1.0, 0x4000 = 0.5; 32-bit 0xC0000000 = -0.5."""
    got24 = pcm_to_float(b"\x00\x00\x80\xff\xff\x7f\xff\xff\xff", 3, 1)
    assert list(got24) == [-1.0, 1 - 2**-23, -(2**-23)]
    assert list(pcm_to_float(b"\x00\x80\x00\x40", 2, 1)) == [-1.0, 0.5]
    assert list(pcm_to_float(b"\x00\x00\x00\xc0", 4, 1)) == [-0.5]


def test_stereo_takes_the_first_channel(tmp_path):
    left = np.arange(-500, 500, dtype=np.int64) * 30
    right = np.full(left.size, 12_345, dtype=np.int64)
    interleaved = np.column_stack([left, right]).ravel()
    write_wav(tmp_path / "st.wav", interleaved, 2, channels=2)
    np.testing.assert_array_equal(read_all(WavSource(tmp_path / "st.wav")), left / 32768)


def test_blocks_are_a_tenth_of_a_second_and_start_defaults_to_mtime_minus_length(tmp_path):
    path = tmp_path / "t.wav"
    write_wav(path, np.zeros(int(2.5 * FS), dtype=np.int64), 2)
    os.utime(path, (1_795_600_810.0, 1_795_600_810.0))
    source = WavSource(path)
    try:
        sizes = [b.size for b in source.blocks(threading.Event())]
        assert sizes == [4800] * 25
        assert source.first_sample_time() == pytest.approx(1_795_600_807.5)
    finally:
        source.close()
    given = WavSource(path, start=1_795_600_800.0)
    given.close()
    assert given.first_sample_time() == 1_795_600_800.0


def _float_wav(path: Path) -> None:
    """A 32-bit IEEE float WAV (format tag 3), which the stdlib reader refuses."""
    data = struct.pack("<4f", 0.0, 0.5, -0.5, 0.25)
    fmt = struct.pack("<HHIIHH", 3, 1, FS, FS * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_unreadable_files_are_refused_with_a_reason(tmp_path):
    eight = tmp_path / "eight.wav"
    with wave.open(str(eight), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(FS)
        out.writeframes(bytes(100))
    with pytest.raises(AudioError, match="8-bit samples"):
        WavSource(eight)
    _float_wav(tmp_path / "float.wav")
    with pytest.raises(AudioError, match="16, 24 or 32-bit PCM"):
        WavSource(tmp_path / "float.wav")
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(AudioError, match="16, 24 or 32-bit PCM"):
        WavSource(tmp_path / "notes.txt")
    with pytest.raises(AudioError, match="not found"):
        WavSource(tmp_path / "missing.wav")


@pytest.mark.process
def test_the_command_refuses_a_bad_file_without_a_traceback(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio")
    done = subprocess.run(
        [sys.executable, "-m", "noiselab", "sensor", "--id", "mic-1", "--wav", "notes.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "noiselab: WAV file notes.txt: cannot read it" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "noiselab-sensor-mic-1.db").exists()
