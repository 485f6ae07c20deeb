"""A month's report computed from known data (support/report_lab.py): long-term levels summed
energetically over the measured seconds, days and hours above the guideline value, coverage,
what was left out by cause, outages and the year before, each checked against hand-computed
values."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.lab import ApiLab
from support.report_lab import CPH, ROAD, SILENT, february

from noiselab.reports import Report, ReportPeriod, build_report
from noiselab.store.metadata import MetadataStore, WeatherExclusion
from noiselab.store.sqlite import SqliteStore
from noiselab.validity.daily import DailyPlan
from noiselab.validity.deployment import deployment_validity

DATE_S = 86_400.0
"""Seconds of one indicator date (07:00 to 07:00) in February."""


def composite(lday: float, levening: float, lnight: float) -> float:
    """Lden with the Danish 12/3/9 h weights and 0/5/10 dB penalties."""
    return 10 * math.log10(
        (12 * 10 ** (lday / 10) + 3 * 10 ** ((levening + 5) / 10) + 9 * 10 ** ((lnight + 10) / 10))
        / 24
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    root: Path = tmp_path_factory.mktemp("report")
    lab = ApiLab(root)
    february(lab)
    with SqliteStore(lab.store_path) as store, MetadataStore(lab.meta_url) as meta:
        yield build_report(
            store,
            meta,
            deployment_validity(meta, CPH),
            ReportPeriod(2026, 2),
            DailyPlan(CPH),
        )


def sensor_part(report: Report, sensor_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in report.sensors if s.sensor.id == sensor_id)


def test_long_term_day_level_is_the_energetic_mean_over_measured_seconds(report: Report) -> None:
    """Day hours: 26·12 at 55 dB less the 2 the weather left out, and 12 at 70 dB (the 20th is
    missing): Lday = 10·log10((310·10^5.5 + 12·10^7) / 322) = 58.31 dB, not the mean of the
    daily values; evening and night 55.00 dB; Lden = composite(58.31, 55, 55) = 62.17 dB."""
    levels = sensor_part(report, ROAD).total.levels
    lday = 10 * math.log10((310 * 10**5.5 + 12 * 10**7) / 322)
    assert round(lday, 2) == 58.31
    assert levels.lday == pytest.approx(lday, abs=1e-9)
    assert levels.levening == pytest.approx(55.0, abs=1e-9)
    assert levels.lnight == pytest.approx(55.0, abs=1e-9)
    assert levels.lden == pytest.approx(composite(lday, 55.0, 55.0), abs=1e-9)
    assert round(composite(lday, 55.0, 55.0), 2) == 62.17


def test_days_and_hours_above_the_guideline_value(report: Report) -> None:
    """Road guideline Lden 58 dB. Every date with data has Lden above it (61.67 dB at a
    steady 55 dB): 27 of 27. Hours: each date's 3 evening hours (55 + 5 = 60) and 9 night
    hours (55 + 10 = 65) are above, its day hours (55) are not, except the 12 day hours of
    the 2nd at 70 dB: 27·12 + 12 = 336, of 27·24 - 2 = 646 hours with data (the weather left
    out two day hours of the 10th)."""
    total = sensor_part(report, ROAD).total
    assert (total.days_above, total.days_with_lden) == (27, 27)
    assert (total.hours_above, total.hours_with_data) == (336, 646)
    assert total.hours_lafmax_above is None  # road: no LAmax guideline


def test_coverage_exclusions_and_outage_add_up(report: Report) -> None:
    """28 dates of 86,400 s; the 20th's 86,400 s are an outage; the weather left out 7,200 s;
    coverage (28·86,400 - 86,400 - 7,200) / (28·86,400) = 0.96131."""
    total = sensor_part(report, ROAD).total
    assert total.levels.real_s == 28 * DATE_S
    assert total.excluded_s == {"correction": 0.0, "annotation": 0.0, "weather": 7200.0}
    assert total.outage_s == pytest.approx(DATE_S)
    assert total.levels.coverage == pytest.approx((27 * DATE_S - 7200) / (28 * DATE_S))
    assert round(total.levels.coverage, 5) == 0.96131


def test_the_parts_are_the_dates_and_the_weather_falls_on_its_date(report: Report) -> None:
    parts = sensor_part(report, ROAD).parts
    assert [p.label for p in parts[:2]] == ["2026-02-01", "2026-02-02"]
    assert len(parts) == 28
    assert parts[9].excluded_s["weather"] == 7200.0  # 2026-02-10
    assert parts[19].levels.lden is None  # 2026-02-20
    assert parts[19].outage_s == DATE_S
    assert parts[1].levels.lden == pytest.approx(composite(70.0, 55.0, 55.0), abs=1e-9)


def test_the_year_before_is_computed_the_same_way(report: Report) -> None:
    """February 2025 at a steady 52 dB: Lden = 52 + 6.67 = 58.67 dB, 28 dates above 58 dB."""
    previous = sensor_part(report, ROAD).previous
    assert previous.label == "2025-02"
    assert previous.levels.lden == pytest.approx(composite(52.0, 52.0, 52.0), abs=1e-9)
    assert round(previous.levels.lden or 0, 2) == 58.67
    assert previous.days_above == 28
    assert previous.levels.coverage == pytest.approx(1.0)


def test_a_sensor_without_data_has_no_levels_and_a_whole_outage(report: Report) -> None:
    silent = sensor_part(report, SILENT).total
    assert silent.levels.lden is None
    assert silent.levels.coverage == 0.0
    assert silent.outage_s == 28 * DATE_S
    assert (silent.days_above, silent.days_with_lden, silent.hours_above) == (0, 0, 0)


def test_a_year_has_twelve_months_and_the_same_total(tmp_path: Path) -> None:
    """The year 2026 holds only February's data: its total equals February's."""
    lab = ApiLab(tmp_path)
    february(lab)
    with SqliteStore(lab.store_path) as store, MetadataStore(lab.meta_url) as meta:
        validity = deployment_validity(meta, CPH)
        year = build_report(store, meta, validity, ReportPeriod(2026), DailyPlan(CPH))
        month = build_report(store, meta, validity, ReportPeriod(2026, 2), DailyPlan(CPH))
    road_year, road_month = sensor_part(year, ROAD), sensor_part(month, ROAD)
    assert [p.label for p in road_year.parts][:3] == ["2026-01", "2026-02", "2026-03"]
    assert road_year.parts[1].levels == road_month.total.levels
    assert road_year.total.levels.lden == pytest.approx(road_month.total.levels.lden)
    assert road_year.total.days_above == 27
    # The 7 hours of 1 February before 07:00 are the night of 31 January, measured in the year.
    assert road_year.total.outage_s == pytest.approx((365 - 27) * DATE_S - 7 * 3600)


def test_weather_on_the_morning_after_the_month_is_the_last_nights(tmp_path: Path) -> None:
    """Wind on 1 March 03:00-05:00 local falls in the night of 28 February: 7,200 s more left
    out of February's report, on its last date."""
    lab = ApiLab(tmp_path)
    february(lab)
    with lab.meta() as meta:
        start = datetime(2026, 3, 1, 3, tzinfo=CPH).astimezone(UTC)
        span = WeatherExclusion("vb-weather", start, start + timedelta(hours=2), 7.0, 9.0, None, "")
        meta.weather_exclusions.merge("vb-weather", [span], 10.0)
    with SqliteStore(lab.store_path) as store, MetadataStore(lab.meta_url) as meta:
        month = build_report(
            store, meta, deployment_validity(meta, CPH), ReportPeriod(2026, 2), DailyPlan(CPH)
        )
    road = sensor_part(month, ROAD)
    assert road.total.excluded_s["weather"] == 14_400.0
    assert road.parts[-1].excluded_s["weather"] == 7200.0
