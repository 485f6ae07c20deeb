"""A report's figures as CSV: one row per sensor and period part, for spreadsheets.

Rows per sensor: ``total`` (the whole period), then one per ``date`` (a month's report) or
``month`` (a year's), then ``year_before`` (the same period a year earlier). Levels in dB to
0.01, seconds to 0.001, coverage 0..1 to 0.0001; empty cells where a value does not exist
(no data, or no guideline for the source). The alerts and citizens' reports are listed in the
HTML and PDF report and through their own API routes. Every cell is a number or one of our own
identifiers (sensor ids are checked to ``[A-Za-z0-9._-]``), so no cell can start a formula.
"""

from __future__ import annotations

import csv
import io

from noiselab.analysis.decibels import round_db_or_none
from noiselab.reports.content import Report, SensorReport
from noiselab.reports.figures import Figures

__all__ = ["COLUMNS", "render_csv"]

COLUMNS = (
    "period",
    "sensor_id",
    "source",
    "row",
    "part",
    "lden",
    "lday",
    "levening",
    "lnight",
    "laeq24",
    "coverage",
    "measured_s",
    "excluded_weather_s",
    "excluded_annotation_s",
    "excluded_correction_s",
    "outage_s",
    "calibration_uncertain_s",
    "days_with_lden",
    "days_above_guideline",
    "hours_with_data",
    "hours_above_guideline",
    "hours_lafmax_above_85",
    "guideline_lden_db",
)


def render_csv(report: Report) -> str:
    """The report's figures (module docstring), with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    part_kind = "date" if report.period.kind == "month" else "month"
    for sensor in report.sensors:
        writer.writerow(_row(report, sensor, "total", sensor.total))
        for part in sensor.parts:
            writer.writerow(_row(report, sensor, part_kind, part))
        writer.writerow(_row(report, sensor, "year_before", sensor.previous))
    return out.getvalue()


def _cell(value: float | int | None, digits: int | None = None) -> str:
    if value is None:
        return ""
    return str(value if digits is None else round(float(value), digits))


def _row(report: Report, sensor: SensorReport, kind: str, f: Figures) -> list[str]:
    levels = f.levels
    guide = sensor.guideline.value_db if sensor.guideline else None
    return [
        report.period.label,
        sensor.sensor.id,
        sensor.sensor.source or "",
        kind,
        f.label,
        *(
            _cell(round_db_or_none(v))
            for v in (levels.lden, levels.lday, levels.levening, levels.lnight, levels.laeq24)
        ),
        _cell(levels.coverage, 4),
        _cell(levels.measured_s, 3),
        *(_cell(f.excluded_s.get(c, 0.0), 3) for c in ("weather", "annotation", "correction")),
        _cell(f.outage_s, 3),
        _cell(f.calibration_uncertain_s, 3),
        _cell(f.days_with_lden),
        _cell(f.days_above),
        _cell(f.hours_with_data),
        _cell(f.hours_above),
        _cell(f.hours_lafmax_above),
        _cell(guide),
    ]
