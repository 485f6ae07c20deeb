"""Can the sensor client keep up with a microphone? Processing time per second of audio.

Signal: 60 s of seeded white noise at 48 kHz (RMS 0.05 FS), fed in 100 ms blocks (4,800
samples), as ``noiselab sensor`` reads a sound card. Three pipelines over the same blocks:

a. baseline: copy each block (what reading a sound card's buffer costs at least);
b. A-weighting + Fast time weighting (``AWeightedMeter``, what every reading needs);
c. b plus the 27 third-octave bands 25 Hz-10 kHz (``ThirdOctaveMeter``, ``--spectra``);
d. the whole client, ``noiselab sensor --wav`` as a process replaying the same minute as a
   24-bit WAV to a real Mosquitto on a free port (reading the file, both meters with
   ``--spectra`` and without, the SQLite outbox with a durable commit per second, QoS 1
   publishing, and the process's start-up and imports), CPU from ``getrusage`` of the child.

Each pipeline is timed as wall time and CPU time (``time.process_time``) over the whole minute;
the real-time factor is processing seconds per audio second, and % of one core is the CPU
time over the audio time. Median of ``--repeats`` runs, each after building fresh meters.

Run: ``.venv/bin/python benchmarks/sensor_realtime.py`` (about a minute; ``d`` needs the
``mosquitto`` binary and is skipped without it).
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from noiselab.analysis.octave import ThirdOctaveMeter
from noiselab.analysis.weighting import AWeightedMeter
from noiselab.broker import MosquittoBroker

FS = 48_000
BLOCK = FS // 10


def blocks(seconds: int) -> list[np.ndarray]:
    x = np.random.default_rng(0).normal(0.0, 0.05, FS * seconds)
    return [x[i : i + BLOCK] for i in range(0, x.size, BLOCK)]


def baseline() -> Callable[[np.ndarray], object]:
    return np.copy


def a_fast() -> Callable[[np.ndarray], object]:
    return AWeightedMeter(FS, calibration_db=26.0).process


def a_fast_bands() -> Callable[[np.ndarray], object]:
    meter = AWeightedMeter(FS, calibration_db=26.0)
    bands = ThirdOctaveMeter(FS, calibration_db=26.0)

    def both(block: np.ndarray) -> object:
        return meter.process(block), bands.process(block)

    return both


def timed(
    make: Callable[[], Callable[[np.ndarray], object]], data: list[np.ndarray]
) -> tuple[float, float]:
    step = make()
    wall, cpu = time.perf_counter(), time.process_time()
    for block in data:
        step(block)
    return time.perf_counter() - wall, time.process_time() - cpu


def write_wav(path: Path, data: list[np.ndarray]) -> None:
    """The blocks as a mono 24-bit PCM WAV (full scale = 1.0)."""
    ints = np.round(np.clip(np.concatenate(data), -1, 1 - 2**-23) * 2**23).astype("<i4")
    packed = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(FS)
        out.writeframes(packed)


def whole_client(url: str, wav: Path, work: Path, spectra: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one ``noiselab sensor --wav`` process, start-up included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "noiselab",
        "sensor",
        "--mqtt",
        url,
        "--id",
        "bench-1",
        "--wav",
        str(wav),
        "--start",
        str(int(time.time()) - 3600),
        "--buffer",
        str(work / f"outbox-{time.monotonic_ns()}.db"),
        *(["--spectra"] if spectra else []),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description="Sensor meters: processing time per audio second.")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = blocks(args.seconds)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{args.seconds} s of 48 kHz noise in {len(data)} blocks of {BLOCK} samples")
    print(f"{'pipeline':<28} {'wall s':>8} {'cpu s':>8} {'RTF wall':>10} {'% core':>8}")
    for name, make in (
        ("(a) copy blocks (baseline)", baseline),
        ("(b) A + Fast", a_fast),
        ("(c) A + Fast + 1/3 octaves", a_fast_bands),
    ):
        timed(make, data[:10])  # warm-up: filter design and first-touch memory
        runs = [timed(make, data) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(
            f"{name:<28} {wall:8.3f} {cpu:8.3f} {wall / args.seconds:10.5f}"
            f" {100 * cpu / args.seconds:7.2f}%"
        )
    if shutil.which("mosquitto") is None:
        print("(d) skipped: no mosquitto binary")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wav = work / "minute.wav"
        write_wav(wav, data)
        with MosquittoBroker(work / "broker") as broker:
            for name, spectra in (("(d) whole client", False), ("(d) whole client, spectra", True)):
                runs = [whole_client(broker.url, wav, work, spectra) for _ in range(args.repeats)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                print(
                    f"{name:<28} {wall:8.3f} {cpu:8.3f} {wall / args.seconds:10.5f}"
                    f" {100 * cpu / args.seconds:7.2f}%"
                )


if __name__ == "__main__":
    main()
