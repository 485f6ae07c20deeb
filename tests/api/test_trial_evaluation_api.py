"""Evaluating a trial over ``/api/v1/trials`` on real SQLite files: the simulator's
blade-barrier pair with an injected barrier, the flat rows for Grafana, hours of the day, too
little or no data, the self-contained report, the CSV export, daylight-saving days and the
reuse of an evaluation. CRUD and access are in ``test_trials_api.py``."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from support.clock import Clock
from support.trials import CONTROL, CPH, END, INSTALLED, START, TREATED, TRIALS, Setup, create
from support.trials import trial_setup as _setup
from support.trials import zulu as _z

from noiselab.analysis.decibels import leq
from noiselab.api.schemas.trials import DailyRowOut, EvaluationOut, SummaryRowOut
from noiselab.model import Reading, Spectrum
from noiselab.sensors_sim import spectra as sim_spectra
from noiselab.sensors_sim.generate import Generated, generate
from noiselab.sensors_sim.site_specs import Barrier, site_by_id
from noiselab.store import open_store

SEED = 1


# --------------------------------------------------------------------------- end to end


def _readings(sensor_id: str, g: Generated) -> list[Reading]:
    bands = tuple(float(f) for f in sim_spectra.BANDS_HZ)
    assert g.spectrum is not None
    return [
        Reading(
            sensor_id=sensor_id,
            ts=ts,
            laeq=laeq,
            duration=60.0,
            lafmax=lafmax,
            spectrum=Spectrum(bands, tuple(levels)),
        )
        for ts, laeq, lafmax, levels in zip(
            g.ts.tolist(),
            g.laeq.tolist(),
            g.lafmax.tolist(),
            np.round(g.spectrum, 2).tolist(),
            strict=True,
        )
    ]


def _hourly(levels: np.ndarray) -> np.ndarray:
    """Energetic LAeq,1h of consecutive hours of 1-min levels."""
    e = np.power(10.0, levels / 10.0).reshape(-1, 60)
    return np.asarray(10.0 * np.log10(e.mean(axis=1)))


@pytest.fixture(scope="module")
def simulated_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """14 + 14 days of 1-min readings with spectra at the blade-barrier trial pair, a 6 dB
    barrier on the treated site from INSTALLED, in a store file written once per module;
    returns the file and the true effect.

    True effect, from the simulator's truth: over the after hours, ``Leq`` of the hourly
    ``road_mitigated + background`` minus ``Leq`` of the hourly ``road + background`` (the
    background is not screened, so a little under 6 dB)."""
    barrier = Barrier(installed_at=INSTALLED.timestamp(), insertion_loss_db=6.0)
    t = generate(
        site_by_id(TREATED), START, END, SEED, rate_hz=1 / 60, barrier=barrier, spectra=True
    )
    c = generate(site_by_id(CONTROL), START, END, SEED, rate_hz=1 / 60, spectra=True)
    path = tmp_path_factory.mktemp("simulated") / "readings.db"
    with open_store(f"sqlite:///{path}") as store:
        store.write(_readings(TREATED, t) + _readings(CONTROL, c), received_at=END.timestamp())
    after = t.ts >= INSTALLED.timestamp()
    bg = np.power(10.0, t.background_laeq[after] / 10.0)
    with_barrier = 10 * np.log10(np.power(10.0, t.road_mitigated_laeq[after] / 10.0) + bg)
    without = 10 * np.log10(np.power(10.0, t.road_laeq[after] / 10.0) + bg)
    return path, leq(_hourly(with_barrier)) - leq(_hourly(without))


@pytest.fixture
def simulated(tmp_path: Path, simulated_store: tuple[Path, float]) -> Iterator[tuple[Setup, float]]:
    """An app over a copy of the simulated store, and the true effect."""
    path, expected = simulated_store
    shutil.copyfile(path, tmp_path / "readings.db")
    for setup in _setup(tmp_path):
        yield setup, expected


def test_evaluation_recovers_the_injected_barrier(simulated: tuple[Setup, float]) -> None:
    """Created with a staff key, read with the vendor's. The true effect lies in the 95 %
    interval, which is narrower than 1 dB, and within 0.3 dB of the estimate. (At 95 % a seed
    misses now and then by design: with this setup seeds 1-12 covered it 11 times; seed 3
    missed by 0.03 dB.)"""
    setup, expected = simulated
    assert -6.0 < expected < -5.0
    tid = create(setup)["id"]
    response = setup.client.get(f"{TRIALS}/{tid}/evaluation", headers=setup.headers["vendor"])
    assert response.status_code == 200, response.text
    body = EvaluationOut.model_validate(response.json())
    assert body.effect is not None
    low, high = body.effect.ci_low_db - 0.005, body.effect.ci_high_db + 0.005  # rounding
    assert low <= expected <= high, (expected, body.effect)
    assert body.effect.ci_high_db - body.effect.ci_low_db < 1.0
    assert abs(body.effect.effect_db - expected) < 0.3
    assert body.verdict.status == "reduction"
    assert "reduction of" in body.verdict.text
    assert (body.before.coverage, body.after.coverage) == (1.0, 1.0)
    assert (body.before.complete_days, body.after.complete_days) == (14, 14)
    assert (body.before.selected_hours, body.after.selected_hours) == (14 * 24, 14 * 24)
    assert len(body.daily) == 28
    assert body.effect.reduction_db == -body.effect.effect_db
    # Per band: the barrier's band insertion loss grows with frequency (Maekawa shape).
    assert len(body.bands) == 18
    effects = [b.effect_db for b in body.bands]
    assert all(e is not None for e in effects)
    low, high = body.bands[0], body.bands[-1]
    assert low.effect_db is not None
    assert high.effect_db is not None
    assert high.effect_db < low.effect_db - 5.0


def test_flat_rows_for_grafana(simulated: tuple[Setup, float]) -> None:
    setup, _ = simulated
    tid = create(setup)["id"]
    h = setup.headers["staff"]
    daily = setup.client.get(f"{TRIALS}/{tid}/daily", headers=h).json()
    rows = [DailyRowOut.model_validate(row) for row in daily]
    assert rows[0].date == "2026-02-09"
    assert rows[0].phase == "before"
    assert rows[14].date == "2026-02-23"
    assert rows[14].phase == "after"
    assert all(isinstance(row["difference_db"], float) for row in daily)
    for row in rows:
        assert row.treated_db is not None
        assert row.control_db is not None
        assert row.difference_db == pytest.approx(row.treated_db - row.control_db, abs=0.011)
    (summary,) = setup.client.get(f"{TRIALS}/{tid}/summary", headers=h).json()
    SummaryRowOut.model_validate(summary)
    evaluation = setup.client.get(f"{TRIALS}/{tid}/evaluation", headers=h).json()
    assert summary["effect_db"] == evaluation["effect"]["effect_db"]
    assert summary["status"] == "reduction"
    bands = setup.client.get(f"{TRIALS}/{tid}/bands", headers=h).json()
    assert [b["band_hz"] for b in bands] == [float(f) for f in sim_spectra.BANDS_HZ]


def test_night_hours_only(simulated: tuple[Setup, float]) -> None:
    """Hours 22-06 local: 9 of 24 hours a day are selected."""
    setup, _ = simulated
    tid = create(setup, hours=[22, 23, 0, 1, 2, 3, 4, 5, 6])["id"]
    body = setup.client.get(f"{TRIALS}/{tid}/evaluation", headers=setup.headers["staff"]).json()
    assert body["before"]["selected_hours"] == 14 * 9
    assert body["daily"][0]["selected_hours"] == 9
    assert body["effect"] is not None
    assert body["verdict"]["status"] in {"reduction", "no_significant_change"}


def test_insufficient_data_is_said_plainly(simulated: tuple[Setup, float]) -> None:
    """An after period of 3 days has 3 complete days (< 7): insufficient data, though an
    effect is still estimated."""
    setup, _ = simulated
    tid = create(setup, after_end=_z(INSTALLED + timedelta(days=3)))["id"]
    body = setup.client.get(f"{TRIALS}/{tid}/evaluation", headers=setup.headers["staff"]).json()
    assert body["verdict"]["status"] == "insufficient_data"
    assert "after period has 3 complete day(s), at least 7" in body["verdict"]["text"]
    assert body["effect"] is not None


def test_no_data_gives_no_effect(setup: Setup) -> None:
    tid = create(setup)["id"]
    body = setup.client.get(f"{TRIALS}/{tid}/evaluation", headers=setup.headers["staff"]).json()
    assert body["effect"] is None
    assert body["verdict"]["status"] == "insufficient_data"
    assert body["bands"] == []
    assert "no spectra" in body["bands_note"]
    assert body["before"]["coverage"] == 0.0
    assert body["daily"][0]["treated_db"] is None
    report = setup.client.get(f"{TRIALS}/{tid}/report", headers=setup.headers["staff"])
    assert report.status_code == 200
    assert "Insufficient data" in report.text


# --------------------------------------------------------------------------- report, CSV


def test_report_is_self_contained_and_escaped(simulated: tuple[Setup, float]) -> None:
    setup, _ = simulated
    tid = create(setup)["id"]
    response = setup.client.get(
        f"{TRIALS}/{tid}/report?download=1", headers=setup.headers["vendor"]
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="trial-{tid}-blade-barrier-holb-k-co.html"'
    page = response.text
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Blade barrier &lt;Holbæk&gt; &amp; co" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<svg") >= 4  # effect, levels, differences, bands
    assert "reduction of" in page
    inline = setup.client.get(f"{TRIALS}/{tid}/report", headers=setup.headers["vendor"])
    assert "content-disposition" not in inline.headers


def test_csv_export(simulated: tuple[Setup, float]) -> None:
    setup, _ = simulated
    tid = create(setup)["id"]
    response = setup.client.get(
        f"{TRIALS}/{tid}/export.csv?every=1d", headers=setup.headers["vendor"]
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].endswith('-1d.csv"')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "sensor_id",
        "role",
        "t",
        "laeq",
        "lafmax",
        "l10",
        "l50",
        "l90",
        "coverage",
    ]
    assert [r["role"] for r in rows] == ["treated"] * 28 + ["control"] * 28
    assert rows[0]["t"] == "2026-02-08T23:00:00Z"
    assert rows[0]["coverage"] == "1.0"
    hourly = setup.client.get(
        f"{TRIALS}/{tid}/export.csv",
        params={"every": "1m", "start": "2026-02-10", "end": "2026-02-10T01:00:00+01:00"},
        headers=setup.headers["staff"],
    )
    minutes = list(csv.DictReader(io.StringIO(hourly.text)))
    assert len(minutes) == 2 * 60
    assert minutes[0]["t"] == "2026-02-09T23:00:00Z"
    assert minutes[0]["sensor_id"] == TREATED


def test_csv_export_limits_and_errors(setup: Setup) -> None:
    tid = create(setup)["id"]
    h = setup.headers["staff"]
    too_long = setup.client.get(f"{TRIALS}/{tid}/export.csv?every=1s", headers=h)
    assert too_long.status_code == 400
    assert "at most one day" in too_long.json()["detail"]
    assert setup.client.get(f"{TRIALS}/{tid}/export.csv?every=2h", headers=h).status_code == 422
    ages = setup.client.get(
        f"{TRIALS}/{tid}/export.csv", params={"start": "1970-01-01", "end": "2099-01-01"}, headers=h
    )
    assert ages.status_code == 400
    backwards = setup.client.get(
        f"{TRIALS}/{tid}/export.csv", params={"start": "2026-02-10", "end": "2026-02-09"}, headers=h
    )
    assert backwards.status_code == 422
    assert (
        setup.client.get(f"{TRIALS}/{tid}/export.csv?start=yesterday", headers=h).status_code == 422
    )
    one_second = setup.client.get(
        f"{TRIALS}/{tid}/export.csv",
        params={"every": "1s", "start": "2026-02-10", "end": "2026-02-11"},
        headers=h,
    )
    assert one_second.status_code == 200
    assert one_second.text.strip().splitlines() == [
        "sensor_id,role,t,laeq,lafmax,l10,l50,l90,coverage"
    ]


def test_daylight_saving_day_has_23_hours(setup: Setup) -> None:
    """2026-03-29 (Copenhagen: clocks 02:00 -> 03:00) has 23 local hours; local dates label
    the daily rows."""
    spring = datetime(2026, 3, 23, tzinfo=CPH)
    tid = create(
        setup,
        before_start=_z(spring),
        before_end=_z(spring + timedelta(days=7)),
        after_start=_z(spring + timedelta(days=7)),
        after_end=_z(spring + timedelta(days=14)),
    )["id"]
    daily = setup.client.get(f"{TRIALS}/{tid}/daily", headers=setup.headers["staff"]).json()
    hours = {row["date"]: row["selected_hours"] for row in daily}
    assert hours["2026-03-29"] == 23
    assert hours["2026-03-28"] == hours["2026-03-30"] == 24
    assert len(daily) == 14


def test_evaluations_are_reused_for_a_minute(tmp_path: Path) -> None:
    """The endpoints of one trial share an evaluation for 60 s of the app's clock: data
    written meanwhile shows once that has passed (or at once after the trial is replaced)."""
    clock = Clock(END.timestamp())
    for s in _setup(tmp_path, clock):
        tid = create(s)["id"]
        url, h = f"{TRIALS}/{tid}/summary", s.headers["staff"]
        assert s.client.get(url, headers=h).json()[0]["coverage_before"] == 0.0
        with open_store(s.store_url) as store:
            day = START.timestamp()
            store.write(
                [Reading(TREATED, day + i * 60, 60.0, duration=60.0) for i in range(60)]
                + [Reading(CONTROL, day + i * 60, 60.0, duration=60.0) for i in range(60)],
                received_at=day,
            )
        assert s.client.get(url, headers=h).json()[0]["coverage_before"] == 0.0
        clock.now += 61
        assert s.client.get(url, headers=h).json()[0]["coverage_before"] == round(1 / 336, 4)
