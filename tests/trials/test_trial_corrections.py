"""A trial's evaluation with staff corrections, on a real SQLite store with hand-made data:
every corrected figure is derived by hand in the test's docstring.

The data: one-minute readings with a two-band spectrum, 7 days before and 7 after, local
(Copenhagen, no daylight-saving change) day hours 07-19 at 62 dB at the treated sensor and 60
dB at the control, other hours 55 and 53 dB, every band at the reading's LAeq. The treated
minus control difference is +2 dB in every hour of both periods, so the uncorrected effect is
0.00 dB exactly.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from noiselab.model import Reading, Spectrum
from noiselab.store.metadata import Correction, Trial
from noiselab.store.sqlite import SqliteStore
from noiselab.trials import EvaluationCache, corrections_note, evaluate
from noiselab.trials.evaluation import TrialResult

CPH = ZoneInfo("Europe/Copenhagen")
START = datetime(2026, 2, 2, tzinfo=CPH)  # a Monday, local midnight
INSTALLED = START + timedelta(days=7)
END = INSTALLED + timedelta(days=7)
TREATED, CONTROL = "trial-treated", "trial-control"
BANDS = (500.0, 1000.0)
TRIAL = Trial(
    id="tr-000000000001",
    name="Barrier",
    vendor="acme",
    treated=(TREATED,),
    control=(CONTROL,),
    before_start=START.astimezone(UTC),
    before_end=INSTALLED.astimezone(UTC),
    after_start=INSTALLED.astimezone(UTC),
    after_end=END.astimezone(UTC),
)


def _level(sensor_id: str, ts: float) -> float:
    daytime = 7 <= datetime.fromtimestamp(ts, CPH).hour < 19
    return (62.0 if daytime else 55.0) - (2.0 if sensor_id == CONTROL else 0.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("trial") / "readings.db"
    t0, n = START.timestamp(), 14 * 1440
    readings = [
        Reading(sid, t, lv, duration=60.0, spectrum=Spectrum(BANDS, (lv, lv)))
        for sid in (TREATED, CONTROL)
        for t in (t0 + 60.0 * i for i in range(n))
        for lv in [_level(sid, t)]
    ]
    with SqliteStore(path) as opened:
        opened.write(readings, received_at=END.timestamp())
        yield opened


def fix(start: datetime, end: datetime, **changes: Any) -> Correction:
    """An active correction of the treated sensor, id 1 unless given."""
    fields: dict[str, Any] = {
        "id": 1,
        "sensor_id": TREATED,
        "start": start.astimezone(UTC),
        "end": end.astimezone(UTC),
        "kind": "exclude",
        "reason": "test",
        "created_by": "kommune",
    }
    return Correction(**(fields | changes))


def run(store: SqliteStore, *corrections: Correction) -> TrialResult:
    return evaluate(TRIAL, store, CPH, corrections)


def day_row(result: TrialResult, day: date) -> Any:
    return next(d for d in result.evaluation.daily if d.day == day.toordinal())


def test_without_corrections_the_effect_is_zero(store: SqliteStore) -> None:
    result = run(store)
    assert result.evaluation.baci is not None
    assert abs(result.evaluation.baci.effect_db) < 1e-9
    assert result.evaluation.after.complete_days == 7
    assert result.corrections == ()
    assert corrections_note(result).startswith("No corrections were applied")


def test_an_offset_on_the_treated_after_period_shifts_the_effect_by_it(
    store: SqliteStore,
) -> None:
    """-3 dB on every treated minute of the after period: treated - control after is
    2 - 3 = -1 dB, before +2 dB, so the effect is -1 - 2 = -3.00 dB; every band's effect
    the same. Coverage and complete days do not change."""
    result = run(store, fix(INSTALLED, END, kind="offset", offset_db=-3.0))
    baci = result.evaluation.baci
    assert baci is not None
    assert baci.effect_db == pytest.approx(-3.0, abs=1e-9)
    assert result.evaluation.after.difference_db == pytest.approx(-1.0, abs=1e-9)
    assert result.evaluation.after.complete_days == 7
    assert [b.effect_db for b in result.bands] == pytest.approx([-3.0, -3.0], abs=1e-9)
    assert result.applied == result.corrections
    assert "1 staff correction applied (id 1)" in corrections_note(result)


def test_excluding_three_days_leaves_four_complete_days(store: SqliteStore) -> None:
    """Treated data of the after period's last 3 local days excluded: 4 complete days, 96
    matched hours of 168; the levels of the rest are unchanged, so the effect stays 0."""
    result = run(store, fix(INSTALLED + timedelta(days=4), END))
    after = result.evaluation.after
    assert (after.complete_days, after.days_with_data, after.matched_hours) == (4, 4, 96)
    assert result.evaluation.baci is not None
    assert abs(result.evaluation.baci.effect_db) < 1e-9
    assert result.bands
    assert result.bands[0].days_after == 4


def test_an_offset_on_half_an_hour_is_exact_through_the_minutes(store: SqliteStore) -> None:
    """-3 dB on 10:00-10:30 local of the after period's first day: that hour is
    62 + 10·log10(0.5·10^-0.3 + 0.5) = 60.75405 dB; the day's treated level
    10·log10((11·10^6.2 + 10^6.075405 + 12·10^5.5)/24) = 59.70389 dB instead of
    10·log10((12·10^6.2 + 12·10^5.5)/24) = 59.77980 dB. Other days are unchanged."""
    ten = INSTALLED + timedelta(hours=10)
    result = run(store, fix(ten, ten + timedelta(minutes=30), kind="offset", offset_db=-3.0))
    corrected = day_row(result, INSTALLED.date())
    assert corrected.treated_db == pytest.approx(59.70389, abs=1e-5)
    assert day_row(result, INSTALLED.date() + timedelta(days=1)).treated_db == pytest.approx(
        59.77980, abs=1e-5
    )
    assert corrected.matched_hours == 24


def test_an_exclusion_below_half_an_hour_keeps_it_above_it_drops_it(store: SqliteStore) -> None:
    """20 minutes excluded: 40 of 60 measured (coverage 0.67 >= 0.5), still matched; 40 minutes
    excluded: 20 of 60 (0.33), the hour is not matched, 167 matched hours."""
    ten = INSTALLED + timedelta(hours=10)
    kept = run(store, fix(ten + timedelta(minutes=40), ten + timedelta(hours=1)))
    assert kept.evaluation.after.matched_hours == 168
    dropped = run(store, fix(ten + timedelta(minutes=20), ten + timedelta(hours=1)))
    assert dropped.evaluation.after.matched_hours == 167
    assert day_row(dropped, INSTALLED.date()).matched_hours == 23


def test_a_withdrawn_correction_is_cited_and_not_applied(store: SqliteStore) -> None:
    withdrawn = fix(
        INSTALLED,
        END,
        kind="offset",
        offset_db=-3.0,
        withdrawn_at=END.astimezone(UTC),
        withdrawn_by="ops",
        withdraw_reason="calibration was right after all",
    )
    result = run(store, withdrawn)
    assert result.evaluation.baci is not None
    assert abs(result.evaluation.baci.effect_db) < 1e-9
    assert result.corrections == (withdrawn,)
    assert result.applied == ()
    note = corrections_note(result)
    assert note.startswith("No corrections were applied")
    assert "Withdrawn, so not applied: id 1." in note


def test_the_cache_does_not_serve_an_evaluation_made_before_a_correction(
    store: SqliteStore,
) -> None:
    """Within the cache's minute: no correction, then one added, then it withdrawn; each
    answer is computed for the corrections it is asked with."""
    cache = EvaluationCache(60.0, lambda: 0.0)
    offset = fix(INSTALLED, END, kind="offset", offset_db=-3.0)
    plain = cache.get(TRIAL, store, CPH)
    corrected = cache.get(TRIAL, store, CPH, [offset])
    gone = Correction(
        **(
            {f: getattr(offset, f) for f in offset.__struct_fields__}
            | {"withdrawn_at": END, "withdrawn_by": "ops", "withdraw_reason": "no"}
        )
    )
    after_withdrawal = cache.get(TRIAL, store, CPH, [gone])
    effects = [r.evaluation.baci.effect_db for r in (plain, corrected, after_withdrawal)]  # type: ignore[union-attr]
    assert effects == pytest.approx([0.0, -3.0, 0.0], abs=1e-9)
    assert cache.get(TRIAL, store, CPH, [offset]) is corrected


def test_hand_values() -> None:
    """The figures the docstrings above use."""
    hour = 62 + 10 * math.log10(0.5 * 10**-0.3 + 0.5)
    assert hour == pytest.approx(60.75405, abs=1e-5)
    day = 10 * math.log10((11 * 10**6.2 + 10 ** (hour / 10) + 12 * 10**5.5) / 24)
    assert day == pytest.approx(59.70389, abs=1e-5)
