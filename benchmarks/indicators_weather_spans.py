"""A year of daily indicators of one sensor with many weather exclusion spans, against the same
year without spans, in one run.

Data: one sensor with one-minute readings (LAeq over 60 s, as a Sensor.Community DNMS or a
1-minute logger sends) for every minute of 2026 in Europe/Copenhagen and the morning after (the
last night ends then): 527,040 readings written through ``SqliteStore.write`` one local day per
transaction, so the per-minute and hourly roll-ups are the ones the ingest keeps. The levels
follow a road-traffic day (47 dB at night to 67 dB at the rush hours) plus seeded uniform noise
of ±6 dB, so a left-out minute changes the answer.

Spans: ``N`` weather exclusion spans (0, 500, 2,000, 5,000), each 2-60 minutes long (uniform,
rain showers and gusty spells) starting at a seeded random instant of the year with seconds
(so most cut an hour and start inside a minute); they may overlap, as spans of several stations
or several rules can. Each becomes a range on whole minutes as
:meth:`noiselab.validity.Validity.for_sensor` makes it (:func:`noiselab.validity.minute_range`).

Timed: :func:`noiselab.validity.daily.daily_indicators` for the 365 local dates of 2026 with the
spans' ranges (the indicators route's and the reports' computation); the baseline is the same
call without spans. The calls are interleaved, one of each per round, ``--runs`` rounds after
one warm-up round, so load from elsewhere on the machine falls on all of them alike; the
median of each and its ratio to the baseline's are reported. Twice: on the store as written
(every minute in ``rollup_1m``), and on a copy with every hour compacted into its chunk, as
the ingest keeps hours older than two days (``--skip-compacted`` leaves that out).

The year's levels at ``1d`` and ``1h`` with the spans applied (``valid_levels``, what the levels
route reads) are timed the same way on the store as written.

Checked: the answer with spans equals the one computed from the per-minute series alone (the
minutes the spans leave out dropped, then ``lden``) to 1e-9 dB, and the compacted store's
equals the hot one's.

Run: ``.venv/bin/python benchmarks/indicators_weather_spans.py [--runs 7] [--spans 0,500,...]
[--skip-compacted]`` (about 4 minutes: writing the year takes 25 s, compacting it 40 s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from machine import describe  # benchmarks/machine.py and timing.py sit beside this script
from timing import report

from noiselab.analysis.corrections import RangeCorrection, apply_corrections
from noiselab.analysis.periods import lden
from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore
from noiselab.validity import Span, minute_range
from noiselab.validity.daily import DailyPlan, ValidDay, daily_indicators

CPH = ZoneInfo("Europe/Copenhagen")
SENSOR = "vb-kbm-25m"
FIRST, LAST = date(2026, 1, 1), date(2027, 1, 1)
START = datetime(2026, 1, 1, tzinfo=CPH)
END = datetime(2027, 1, 2, tzinfo=CPH)  # the night of 2026-12-31 ends on 2027-01-01
PLAN = DailyPlan(CPH)
FIELDS = ("lday", "levening", "lnight", "lden", "laeq24", "coverage_day", "coverage_night")
HOURLY_MEAN = np.array(
    [47, 47, 47, 48, 51, 57, 64, 67, 66, 63, 62, 62, 62, 62, 63, 65, 67, 66, 63, 60, 57, 54, 51, 49]
)


def seed(store: SqliteStore) -> int:
    """Write the year of one-minute readings, one local day per transaction; their count."""
    rng = np.random.default_rng(1)
    day = START
    written = 0
    while day < END:
        after = (day + timedelta(days=1)).replace(hour=0)
        t0, t1 = day.timestamp(), after.timestamp()
        ts = np.arange(t0, t1, 60.0)
        hours = np.array([datetime.fromtimestamp(t, CPH).hour for t in ts[::60]])
        levels = np.repeat(HOURLY_MEAN[hours], 60)[: ts.size] + rng.uniform(-6, 6, ts.size)
        batch = [
            Reading(SENSOR, t, round(v, 2), duration=60.0, lafmax=round(v + 9, 2))
            for t, v in zip(ts.tolist(), levels.tolist(), strict=True)
        ]
        written += store.write(batch, received_at=t1).inserted
        day = after
    return written


def weather_ranges(count: int, seed_: int = 7) -> tuple[RangeCorrection, ...]:
    """``count`` weather spans of 2-60 min at seeded instants of 2026, as whole-minute ranges."""
    rng = np.random.default_rng(seed_)
    t0, t1 = START.timestamp(), datetime(2027, 1, 1, tzinfo=CPH).timestamp()
    starts = rng.uniform(t0, t1 - 3600, count)
    lengths = rng.uniform(120, 3600, count)
    spans = [
        Span(s, s + d, "weather", "rain 0.4 mm/min")
        for s, d in zip(starts.tolist(), lengths.tolist(), strict=True)
    ]
    return tuple(minute_range(span) for span in sorted(spans, key=lambda s: s.start))


def from_minutes(store: SqliteStore, ranges: tuple[RangeCorrection, ...]) -> list[ValidDay]:
    """The reference: the year's per-minute series with the ranges' minutes dropped, ``lden``."""
    rows = store.minute_series(SENSOR, START.astimezone(UTC), END.astimezone(UTC))
    kept = apply_corrections(rows.ts, rows.laeq, rows.duration, ranges)
    return lden(kept.ts, kept.laeq, kept.duration, tz=CPH, start=FIRST, end=LAST)  # type: ignore[return-value]


def max_difference(a: list[ValidDay], b: list[ValidDay]) -> float:
    """Largest absolute difference (dB) of the daily indicators of two answers."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        for name in FIELDS:
            u, v = getattr(x, name), getattr(y, name)
            assert (u is None) == (v is None), (x.date, name, u, v)
            if u is not None:
                worst = max(worst, abs(u - v))
    return worst


def interleaved(
    fn: Callable[[tuple[RangeCorrection, ...]], object],
    cases: dict[int, tuple[RangeCorrection, ...]],
    runs: int,
) -> dict[int, list[float]]:
    """Wall times (ms) of ``fn`` per case, one call of each case per round after a warm-up."""
    times: dict[int, list[float]] = {n: [] for n in cases}
    for round_ in range(runs + 1):
        for n, ranges in cases.items():
            started = time.perf_counter()
            fn(ranges)
            if round_:
                times[n].append((time.perf_counter() - started) * 1000.0)
    return times


def measure(
    path: Path, label: str, cases: dict[int, tuple[RangeCorrection, ...]], runs: int
) -> dict[int, list[ValidDay]]:
    """Time the cases on the store at ``path``; their answers."""
    with SqliteStore(path) as store:

        def year(ranges: tuple[RangeCorrection, ...]) -> list[ValidDay]:
            return daily_indicators(store, PLAN, SENSOR, FIRST, LAST, ranges)

        times = interleaved(year, cases, runs)
        baseline = statistics.median(times[0])
        for n, ms in times.items():
            report(f"{label}, {n:,} spans", ms, None if n == 0 else baseline)
        return {n: year(ranges) for n, ranges in cases.items()}


def levels(
    path: Path, every: str, cases: dict[int, tuple[RangeCorrection, ...]], runs: int
) -> None:
    """Time the year's levels in ``every`` buckets with each case's ranges applied (the levels
    route's read, ``valid_levels``), where the store has it."""
    with SqliteStore(path) as store:
        if not hasattr(store, "valid_levels"):
            return

        def year(ranges: tuple[RangeCorrection, ...]) -> object:
            return store.valid_levels(SENSOR, START, END, every, CPH, ranges=ranges)

        times = interleaved(year, cases, runs)
        baseline = statistics.median(times[0])
        for n, ms in times.items():
            report(f"levels {every}, {n:,} spans", ms, None if n == 0 else baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--spans", default="500,2000,5000", help="span counts besides 0")
    parser.add_argument("--skip-compacted", action="store_true")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    cases = {0: weather_ranges(0)} | {int(n): weather_ranges(int(n)) for n in args.spans.split(",")}
    with tempfile.TemporaryDirectory(prefix="noiselab-spans-") as tmp:
        hot, compacted = Path(tmp) / "hot.db", Path(tmp) / "compacted.db"
        with SqliteStore(hot, synchronous="NORMAL") as store:
            print(f"{seed(store):,} one-minute readings written")
        answers = measure(hot, "hot", cases, args.runs)
        for every in ("1d", "1h"):
            levels(hot, every, cases, args.runs)
        with SqliteStore(hot) as store:
            for n, ranges in cases.items():
                worst = max_difference(answers[n], from_minutes(store, ranges))
                print(f"{n:,} spans: largest difference from the minutes {worst:.1e} dB")
                assert worst < 1e-9, (n, worst)
        if args.skip_compacted:
            return
        shutil.copyfile(hot, compacted)  # closed: the WAL is checkpointed into the file
        with SqliteStore(compacted, synchronous="NORMAL") as store:
            chunks = store.compact(older_than_s=0.0, now=END.timestamp() + 86_400).chunks
            print(f"{chunks:,} sensor-hours compacted")
        found = measure(compacted, "compacted", cases, args.runs)
        for n in cases:
            assert max_difference(found[n], answers[n]) < 1e-9, n


if __name__ == "__main__":
    main()
