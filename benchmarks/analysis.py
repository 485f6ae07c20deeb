"""Speed and memory of noiselab.analysis on one sensor-year of 1-s data, against numpy floors
and the peers (acoustic-toolbox, python-acoustics).

Data: 31,536,000 float64 levels, one per second from 2026-01-01 00:00 Europe/Copenhagen (``ts``
= Unix seconds): a road-traffic-like mean by local hour (47 dB at night to 67 dB at the rush
hours) plus seeded uniform noise of ±6 dB, so 41-73 dB. A daily pattern, not white noise,
so that a period cut an hour wrong on the daylight-saving nights shows. In the same run:

* floors: ``np.sum(x)`` and one ``np.power(10, x/10)`` pass over the same array;
* ours: ``leq(x)``, ``lden(ts, x)`` per local date for 2026, ``resample(ts, x, every="1h")``
  with L10/L50/L90 from 0.1 dB histograms (the default) and with ``percentiles="exact"``
  (sorting each hour);
* time: median of 3 runs after one warm-up run (the first touch of fresh memory costs page
  faults that are not arithmetic); ratio to the ``np.power`` floor; peak extra memory traced by
  ``tracemalloc`` during one more run, as a multiple of the input array (252 MB);
* peers, each in its own cached virtualenv under ``.benchmarks/`` (never the project's):
  acoustic-toolbox (beside numpy 2) in ``.benchmarks/venv-peers/`` and python-acoustics (PyPI
  ``acoustics``, needs numpy < 2 and scipy < 1.15) in ``.benchmarks/venv-acoustics/``. The
  levels go to them as a ``.npy`` file. Their ``leq`` over the year, and their equivalent of
  a per-day Lden: their ``leq`` over the day, evening and night slices of each date, then
  their ``lden`` with ``hours=(12, 3, 9)``. They take no timestamps, so the slices are what
  a user of theirs would cut: 24 h of samples from 07:00 local of each date (12 h day, 3 h
  evening, 9 h night). That is exact except on the two daylight-saving nights (8 h and 10 h
  long), where the difference from ours is reported with its dates.

A peer that fails to install or import is reported with the reason, and the run continues.

Run: ``.venv/bin/python benchmarks/analysis.py`` (about 1 min, plus the first-time installs).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.decibels import leq
from noiselab.analysis.periods import lden
from noiselab.analysis.resample import resample

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".benchmarks"
ZONE = ZoneInfo("Europe/Copenhagen")
YEAR = 2026
SECONDS = 365 * 86400
HOURS = (12.0, 3.0, 9.0)


@dataclass(frozen=True)
class Peer:
    name: str
    module: str
    venv: str
    requirements: tuple[str, ...]


PEERS = (
    Peer("acoustic-toolbox", "acoustic_toolbox", "venv-peers", ("acoustic-toolbox",)),
    Peer(
        "python-acoustics",
        "acoustics",
        "venv-acoustics",
        ("acoustics", "numpy<2", "scipy<1.15"),
    ),
)

PEER_SCRIPT = textwrap.dedent(
    """
    import json, statistics, sys, time
    from importlib.metadata import version
    import numpy as np

    module, levels_path, slices_path, out_path = sys.argv[1:5]
    x = np.load(levels_path)
    slices = np.load(slices_path)
    notes = []
    if module == "acoustic_toolbox":
        from acoustic_toolbox.descriptors import leq, lden
        dist = "acoustic-toolbox"
    else:
        from acoustics.descriptors import leq, lden
        dist = "acoustics"

    def combine(ld, le, ln):
        try:
            return lden(ld, le, ln, hours=(12.0, 3.0, 9.0))
        except Exception as exc:
            from acoustics.standards.iso_1996_1_2003 import composite_rating_level
            note = (f"{module}.descriptors.lden raises {type(exc).__name__}: {exc}; used"
                    " acoustics.standards.iso_1996_1_2003.composite_rating_level")
            if note not in notes:
                notes.append(note)
            return composite_rating_level(
                np.vstack((ld, le, ln)).T, np.array([12.0, 3.0, 9.0]), np.array([0.0, 5.0, 10.0])
            )

    def per_day():
        ld = np.array([leq(x[a:b]) for a, b in slices[:, 0:2]])
        le = np.array([leq(x[a:b]) for a, b in slices[:, 1:3]])
        ln = np.array([leq(x[a:b]) for a, b in slices[:, 2:4]])
        return np.asarray(combine(ld, le, ln), dtype=np.float64)

    def timed(fn):
        fn()
        times, result = [], None
        for _ in range(3):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times), result

    leq_s, leq_value = timed(lambda: leq(x))
    lden_s, lden_values = timed(per_day)
    np.save(out_path, lden_values)
    print(json.dumps({
        "version": version(dist), "numpy": np.__version__, "leq": float(leq_value),
        "leq_s": leq_s, "lden_s": lden_s, "notes": notes,
    }))
    """
)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time (s) of 3 runs after a warm-up run, and the last result."""
    fn()
    times, result = [], None
    for _ in range(3):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (numpy buffers included) while ``fn`` runs, above the start."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


PROFILE = np.array(
    [
        50,
        48,
        47,
        47,
        48,
        52,
        60,
        66,
        67,
        65,
        64,
        64,
        64,
        64,
        65,
        66,
        67,
        67,
        65,
        62,
        60,
        58,
        56,
        53,
    ],
    dtype=np.float64,
)
"""Mean level (dB) by local hour 0..23: a road next to homes, quiet at 02-04, loud at 08, 16-18."""


def year_data() -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and levels of the year; the local hour of each UTC hour from ``zoneinfo``."""
    t0 = datetime(YEAR, 1, 1, tzinfo=ZONE).timestamp()
    ts = t0 + np.arange(SECONDS, dtype=np.float64)
    hours = [datetime.fromtimestamp(t0 + 3600 * h, ZONE).hour for h in range(SECONDS // 3600)]
    mean = np.repeat(PROFILE[hours], 3600)
    levels = mean + np.random.default_rng(20260101).uniform(-6.0, 6.0, SECONDS)
    return ts, levels


def naive_slices(t0: float) -> np.ndarray:
    """Per date: sample indices of 07:00, 19:00, 22:00 local and 07:00 + 24 h (clipped)."""
    rows = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        start = int(datetime(day.year, day.month, day.day, 7, tzinfo=ZONE).timestamp() - t0)
        rows.append([start, start + 12 * 3600, start + 15 * 3600, start + 24 * 3600])
        day += timedelta(days=1)
    return np.clip(np.array(rows, dtype=np.int64), 0, SECONDS)


def ensure_venv(peer: Peer) -> tuple[Path | None, str]:
    """The peer's cached virtualenv with its package importable, or ``None`` and why not."""
    venv = CACHE / peer.venv
    python = venv / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if made.returncode:
            return None, f"venv creation failed: {tail(made.stderr)}"
    if _imports(python, peer.module):
        return python, ""
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *peer.requirements],
        capture_output=True,
        text=True,
        check=False,
    )
    if pip.returncode:
        return None, f"pip install {' '.join(peer.requirements)} failed: {tail(pip.stderr)}"
    probe = subprocess.run(
        [str(python), "-c", f"import {peer.module}"], capture_output=True, text=True, check=False
    )
    if probe.returncode:
        return None, f"import {peer.module} failed: {tail(probe.stderr)}"
    return python, ""


def _imports(python: Path, module: str) -> bool:
    probe = [str(python), "-c", f"import {module}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def run_peer(peer: Peer, files: dict[str, Path]) -> dict[str, Any]:
    python, why = ensure_venv(peer)
    if python is None:
        return {"error": why}
    script = CACHE / "peer_bench.py"
    script.write_text(PEER_SCRIPT)
    out = CACHE / f"lden-{peer.module}.npy"
    run = subprocess.run(
        [
            str(python),
            str(script),
            peer.module,
            str(files["levels"]),
            str(files["slices"]),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode:
        return {"error": f"benchmark in its venv failed: {tail(run.stderr)}"}
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    result["lden"] = np.load(out)
    return result


LEQ = "`leq(x)`"
LDEN = "`lden(ts, x)`, 365 local dates"
POWER = "`np.power(10, x/10)` (floor)"
RESAMPLE = '`resample(ts, x, every="1h")`, L10/L50/L90 from 0.1 dB histograms'
RESAMPLE_EXACT = '`resample(ts, x, every="1h", percentiles="exact")`, sorted'


def measure_ours(ts: np.ndarray, x: np.ndarray) -> dict[str, tuple[float, Any, int]]:
    """Name -> (median seconds, result, peak extra bytes) of the floors and our functions."""
    start, end = date(YEAR, 1, 1), date(YEAR + 1, 1, 1)
    jobs: dict[str, Callable[[], Any]] = {
        "`np.sum(x)` (floor)": lambda: np.sum(x),
        POWER: lambda: np.power(10.0, x / 10.0),
        LEQ: lambda: leq(x),
        LDEN: lambda: lden(ts, x, start=start, end=end),
        RESAMPLE: lambda: resample(ts, x, every="1h"),
        RESAMPLE_EXACT: lambda: resample(ts, x, every="1h", percentiles="exact"),
    }
    timings = {name: timed(fn) for name, fn in jobs.items()}
    return {name: (*timings[name], peak_memory(fn)) for name, fn in jobs.items()}


def print_ours(ours: dict[str, tuple[float, Any, int]], x: np.ndarray) -> None:
    floor = ours[POWER][0]
    print(
        f"One sensor-year: {SECONDS:,} float64 levels ({x.nbytes / 1e6:.0f} MB), numpy "
        f"{np.__version__}, Python {sys.version.split()[0]}, median of 3.\n"
    )
    print("| computation | time (ms) | ratio to power floor | peak extra memory (MB, / input) |")
    print("|---|---:|---:|---:|")
    for name, (seconds, _, peak) in ours.items():
        print(
            f"| {name} | {seconds * 1e3:.0f} | {seconds / floor:.2f} "
            f"| {peak / 1e6:.1f} ({peak / x.nbytes:.3f}) |"
        )
    binned, exact = ours[RESAMPLE][1], ours[RESAMPLE_EXACT][1]
    diff = max(
        float(np.abs(getattr(binned, name) - getattr(exact, name)).max())
        for name in ("l10", "l50", "l90")
    )
    print(
        f"\nHistogram vs exact L10/L50/L90 over the {len(binned):,} hours: largest difference "
        f"{diff:.3f} dB; LAeq identical: {bool(np.array_equal(binned.laeq, exact.laeq))}."
    )


def print_peers(ours: dict[str, tuple[float, Any, int]], files: dict[str, Path]) -> None:
    ours_lden = np.array([row.lden for row in ours[LDEN][1]])
    dates = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(ours_lden.size)]
    print(
        "\n| peer | version | Leq (ms) | peer / ours | Leq diff (dB) | per-day Lden (ms) | "
        "peer / ours | Lden max diff (dB) | dates > 0.01 dB (diff) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    for peer in PEERS:
        got = run_peer(peer, files)
        if "error" in got:
            print(f"| {peer.name} | not run | | | | | | | |")
            notes.append(f"{peer.name}: {got['error']}")
            continue
        diff = np.abs(got["lden"] - ours_lden)
        off = [f"{dates[i].isoformat()} ({diff[i]:.2f})" for i in np.flatnonzero(diff > 0.01)]
        print(
            f"| {peer.name} | {got['version']} (numpy {got['numpy']}) | {got['leq_s'] * 1e3:.0f} "
            f"| {got['leq_s'] / ours[LEQ][0]:.1f} | {abs(got['leq'] - ours[LEQ][1]):.1e} "
            f"| {got['lden_s'] * 1e3:.0f} | {got['lden_s'] / ours[LDEN][0]:.1f} "
            f"| {diff.max():.3f} | {', '.join(off) or 'none'} |"
        )
        notes.extend(f"{peer.name}: {note}" for note in got["notes"])
    for note in notes:
        print(f"\n- {note}")


def main() -> None:
    CACHE.mkdir(exist_ok=True)
    ts, x = year_data()
    ours = measure_ours(ts, x)
    print_ours(ours, x)
    files = {"levels": CACHE / "year-levels.npy", "slices": CACHE / "year-slices.npy"}
    np.save(files["levels"], x)
    np.save(files["slices"], naive_slices(float(ts[0])))
    print_peers(ours, files)


if __name__ == "__main__":
    main()
