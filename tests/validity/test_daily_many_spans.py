"""Daily indicators under hundreds of exclusion spans, on a real SQLite file: equal to the
indicators of the per-minute series with the spans' minutes dropped (to 1e-9 dB, seconds left
out per date and cause alike), with the hours the spans cut read in one store read, hot or
compacted.

Data: three weeks of one-minute readings, 2026-02-02 to 2026-02-23 (local, UTC+1), at a level
that changes every minute (a road-traffic day plus seeded noise), so every minute left out
changes the answer. Spans: 300 seeded weather spans of 2-60 minutes (most cut an hour and start
inside a minute), 20 excluding annotations and corrections overlapping them, and two staff
offsets, one cutting an hour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from noiselab.analysis.corrections import EXCLUSION_ORDER, RangeCorrection, apply_corrections
from noiselab.analysis.periods import lden
from noiselab.model import Reading
from noiselab.store.base import Series
from noiselab.store.sqlite import SqliteStore
from noiselab.validity import Span, minute_range
from noiselab.validity.daily import DailyPlan, daily_indicators, excluded_by_date

CPH = ZoneInfo("Europe/Copenhagen")
SENSOR = "vb-road-1"
FIRST, LAST = date(2026, 2, 2), date(2026, 2, 23)
T0 = datetime(2026, 2, 2, tzinfo=CPH).timestamp()
MINUTES = 22 * 1440  # the last night ends on the 23rd
FIELDS = ("lday", "levening", "lnight", "lden", "laeq24", "coverage_day", "coverage_night")


def spans(rng: np.random.Generator) -> list[RangeCorrection]:
    t1 = T0 + 21 * 86_400
    weather = [
        minute_range(Span(s, s + d, "weather", "rain"))
        for s, d in zip(rng.uniform(T0, t1, 300), rng.uniform(120, 3600, 300), strict=True)
    ]
    staff = [
        RangeCorrection(m * 60.0, (m + k) * 60.0, "exclude", cause=cause)
        for m, k, cause in zip(
            rng.integers(T0 // 60, t1 // 60, 20).tolist(),
            rng.integers(5, 200, 20).tolist(),
            ["annotation", "correction"] * 10,
            strict=True,
        )
    ]
    offsets = [
        RangeCorrection(T0 + 86_400 * 3, T0 + 86_400 * 4 + 1_500, "offset", -2.5),
        RangeCorrection(T0 + 86_400 * 9 + 600, T0 + 86_400 * 10, "offset", 1.2),
    ]
    return [*weather, *staff, *offsets]


@pytest.fixture(params=["hot", "compacted"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStore]:
    rng = np.random.default_rng(11)
    hours = (np.arange(MINUTES) // 60 + 1) % 24
    levels = 50 + 12 * np.sin(np.pi * hours / 24) + rng.uniform(-6, 6, MINUTES)
    with SqliteStore(tmp_path / "noise.db", synchronous="NORMAL") as opened:
        opened.write(
            [
                Reading(SENSOR, T0 + 60 * i, round(v, 2), 60.0)
                for i, v in enumerate(levels.tolist())
            ],
            T0 + MINUTES * 60,
        )
        if request.param == "compacted":
            assert opened.compact(older_than_s=0.0, now=T0 + 40 * 86_400).chunks > 0
        yield opened


class Counting:
    """A store that counts its per-minute reads."""

    def __init__(self, store: SqliteStore) -> None:
        self.store, self.reads = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def minute_series(self, *args: Any) -> Series:
        self.reads += 1
        return self.store.minute_series(*args)

    def minute_sums(self, *args: Any) -> Series:
        self.reads += 1
        return self.store.minute_sums(*args)


def test_many_spans_give_the_indicators_of_the_minutes_alone(store: SqliteStore) -> None:
    ranges = spans(np.random.default_rng(5))
    counting = Counting(store)
    days = daily_indicators(counting, DailyPlan(CPH), SENSOR, FIRST, LAST, ranges)  # type: ignore[arg-type]
    # The cut hours' pieces in one read, and a second only for remainders too small to subtract.
    assert counting.reads <= 2
    rows = store.minute_series(
        SENSOR, datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + MINUTES * 60, UTC)
    )
    kept = apply_corrections(rows.ts, rows.laeq, rows.duration, ranges)
    expected = lden(kept.ts, kept.laeq, kept.duration, tz=CPH, start=FIRST, end=LAST)
    worst = max(
        abs(getattr(d, name) - getattr(e, name))
        for d, e in zip(days, expected, strict=True)
        for name in FIELDS
    )
    assert worst < 1e-9
    seconds = excluded_by_date(kept.excluded, FIRST, LAST, CPH, 7)
    found = np.array([[d.excluded()[c] for c in EXCLUSION_ORDER] for d in days])
    np.testing.assert_allclose(found, seconds, atol=1e-6)
    assert found[:, EXCLUSION_ORDER.index("weather")].sum() > 100 * 60  # the spans did apply
