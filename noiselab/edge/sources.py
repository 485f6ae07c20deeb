"""Audio sources of the edge client: blocks of samples in full-scale units.

A source yields blocks of float64 samples in ``[-1, 1)`` (full scale, FS) at ``fs`` Hz and
knows the Unix time of its first sample. The client treats a sample value of 1.0 as 1 Pa before
the calibration offset is added (see :mod:`noiselab.edge.levels`).

- :class:`WavSource` reads a PCM WAV file with the standard library's :mod:`wave`: 16-, 24- or
  32-bit signed integers, mono or the first channel of several. 8-bit, floating-point and
  compressed files are refused with a message saying so.
- :class:`DeviceSource` records from a sound card through ``sounddevice`` (the optional extra
  ``noiselab[audio]``, a binding of PortAudio).
"""

from __future__ import annotations

import os
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.errors import NoiselabError

__all__ = [
    "AudioError",
    "AudioSource",
    "DeviceSource",
    "FloatArray",
    "WavSource",
    "pcm_to_float",
]


_SUPPORTED_WIDTHS = (2, 3, 4)
"""Bytes per sample of the PCM formats read: 16, 24 and 32-bit signed integers."""


class AudioError(NoiselabError):
    """An audio source cannot be opened or read; the message names the file or device."""


class AudioSource(Protocol):
    """Blocks of samples in full-scale units at ``fs`` Hz."""

    @property
    def fs(self) -> int:
        """Sample rate, Hz."""
        ...

    def blocks(self, stop: threading.Event) -> Iterator[FloatArray]:
        """Blocks of mono samples in ``[-1, 1)`` until the source ends or ``stop`` is set."""
        ...

    def first_sample_time(self) -> float:
        """Unix time of the first sample, s (valid once the first block was yielded)."""
        ...

    def close(self) -> None:
        """Release the file or device."""
        ...


def pcm_to_float(frames: bytes, width: int, channels: int) -> FloatArray:
    """Little-endian signed PCM ``frames`` (``width`` bytes per sample) to the first channel's
    samples in full-scale units: a sample ``s`` of ``b`` bits becomes ``s / 2^(b-1)``."""
    if width not in _SUPPORTED_WIDTHS:
        raise AudioError(f"{8 * width}-bit samples are not supported (16, 24 or 32-bit PCM)")
    if width == 3:
        raw = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3)
        # Put the three bytes in the top of an int32, so the sign comes along, then shift down.
        packed = (
            raw[:, 0].astype(np.int32) << 8
            | raw[:, 1].astype(np.int32) << 16
            | raw[:, 2].astype(np.int32) << 24
        )
        ints: npt.NDArray[np.int32] | npt.NDArray[np.int16] = packed >> 8
    elif width == 2:
        ints = np.frombuffer(frames, dtype="<i2")
    else:
        ints = np.frombuffer(frames, dtype="<i4")
    scale = float(2 ** (8 * width - 1))
    return np.asarray(ints[::channels], dtype=np.float64) / scale


class WavSource:
    """A PCM WAV file, read in blocks of ``block_s`` seconds.

    ``start`` is the Unix time of the first sample; by default the file's modification time
    minus its length (a recorder closes the file when the recording ends).
    """

    def __init__(self, path: Path, *, start: float | None = None, block_s: float = 0.1) -> None:
        self.path = path
        try:
            self._wav = wave.open(os.fspath(path), "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError as exc:
            raise AudioError(f"WAV file {path}: not found") from exc
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(
                f"WAV file {path}: cannot read it as 16, 24 or 32-bit PCM WAV ({exc})"
            ) from exc
        try:
            self._check()
        except AudioError:
            self._wav.close()
            raise
        self._fs = self._wav.getframerate()
        self.frames = self._wav.getnframes()
        self._block = max(1, round(block_s * self._fs))
        mtime = path.stat().st_mtime
        self._start = mtime - self.frames / self._fs if start is None else start

    def _check(self) -> None:
        width, rate = self._wav.getsampwidth(), self._wav.getframerate()
        if self._wav.getcomptype() != "NONE":
            raise AudioError(f"WAV file {self.path}: compressed ({self._wav.getcompname()})")
        if width not in _SUPPORTED_WIDTHS:
            raise AudioError(
                f"WAV file {self.path}: {8 * width}-bit samples; "
                "the sensor reads 16, 24 or 32-bit integer PCM"
            )
        if rate < 8000:
            raise AudioError(f"WAV file {self.path}: sample rate {rate} Hz (at least 8 kHz)")

    @property
    def fs(self) -> int:
        """Sample rate, Hz."""
        return self._fs

    def blocks(self, stop: threading.Event) -> Iterator[FloatArray]:
        """The whole file (first channel) in blocks, until its end or ``stop``."""
        width, channels = self._wav.getsampwidth(), self._wav.getnchannels()
        while not stop.is_set():
            frames = self._wav.readframes(self._block)
            if not frames:
                return
            yield pcm_to_float(frames, width, channels)

    def first_sample_time(self) -> float:
        """``--start``, or the file's modification time minus its length."""
        return self._start

    def close(self) -> None:
        """Close the file."""
        self._wav.close()


class DeviceSource:
    """A sound card input through ``sounddevice.InputStream`` (mono, float32)."""

    def __init__(self, device: str, *, fs: int = 48_000, block_s: float = 0.1) -> None:
        try:
            import sounddevice  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError as exc:
            raise AudioError(
                "recording from a device needs sounddevice: pip install 'noiselab[audio]'"
            ) from exc
        except OSError as exc:  # the binding is there but the PortAudio library is not
            raise AudioError(f"sounddevice cannot load PortAudio ({exc})") from exc
        self._fs = fs
        self._block = max(1, round(block_s * fs))
        self._first: float | None = None
        selected: int | str = int(device) if device.isdigit() else device
        try:
            self._stream: Any = sounddevice.InputStream(
                device=selected, channels=1, samplerate=fs, dtype="float32", blocksize=self._block
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError and ValueError for an unknown device
            raise AudioError(f"audio device {device!r}: {exc}") from exc

    @property
    def fs(self) -> int:
        """Sample rate, Hz."""
        return self._fs

    def blocks(self, stop: threading.Event) -> Iterator[FloatArray]:
        """Blocks as they are recorded, until ``stop``."""
        while not stop.is_set():
            data, _overflowed = self._stream.read(self._block)
            if self._first is None:
                self._first = time.time() - self._block / self._fs
            yield np.asarray(data[:, 0], dtype=np.float64)

    def first_sample_time(self) -> float:
        """The wall clock when the first block arrived, less the block's length."""
        return time.time() if self._first is None else self._first

    def close(self) -> None:
        """Stop and close the stream."""
        self._stream.stop()
        self._stream.close()
