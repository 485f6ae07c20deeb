"""A monthly or annual report as one self-contained HTML page staff can open, print or send
on (and headless Chromium renders to PDF, :mod:`noiselab.reports.pdf`).

Inline CSS and SVG charts (:mod:`noiselab.reports.charts`); no scripts, fonts or anything
fetched. Every string that comes from a person (sensor names, annotation and correction
reasons, calibration notes, alert notes, citizens' texts) is escaped with :func:`html.escape`.
Levels in dB re 20 µPa, shown to 0.1 dB (the CSV gives 0.01 dB); times local in the report's
zone. The wording follows the Danish guidelines: "above the guideline value", never a
violation.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from noiselab.reports.charts import lden_bars, lden_by_part
from noiselab.reports.content import AlertOutcome, CitizenEntry, Report, SensorReport
from noiselab.reports.figures import Figures

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#0f172a;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;
border-bottom:1px solid #cbd5e1}h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}td,th{padding:.2em .6em;
text-align:right;border-bottom:1px solid #e2e8f0;vertical-align:top}
th:first-child,td:first-child,td.text,th.text{text-align:left}
td{white-space:nowrap}
.above{color:#b91c1c;font-weight:600}.muted{color:#475569;font-size:.9em}
.text{white-space:pre-wrap;max-width:28em}svg{display:block;margin:.5em 0}
svg text{font-size:11px;fill:#334155}section{break-inside:avoid-page}
@media print{body{max-width:none;margin:0}h2{break-before:auto}}
"""

NONE = "&#8211;"
"""Shown where a value does not exist (an en dash)."""

_CAUSES = (("weather", "weather"), ("annotation", "annotations"), ("correction", "corrections"))


def render_html(report: Report) -> str:
    """The report as an HTML document (module docstring)."""
    zone = ZoneInfo(report.zone)
    scope = "the network" if report.scope is None else f"sensor {report.scope}"
    title = f"Noise report {report.period.label}, {scope}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        _intro(report, zone),
        "<h2>Indicators</h2>",
        _summary_table(report.sensors),
        lden_bars(
            [
                (
                    s.sensor.id,
                    s.total.levels.lden,
                    s.previous.levels.lden,
                    s.guideline.value_db if s.guideline else None,
                )
                for s in report.sensors
            ]
        ),
        '<p class="muted">Blue: Lden of the period. Grey: the same period a year before. '
        "Red: the Danish guideline value for dwellings.</p>",
        "<h2>Data coverage and what was left out</h2>",
        _coverage_table(report.sensors, report.weather),
        *(_sensor_section(s, report, zone) for s in report.sensors),
        f"<h2>Alerts ({report.alerts_total})</h2>",
        _alerts_table(report.alerts, report.alerts_total, zone),
        f"<h2>Citizens' reports ({report.citizen_summary.total})</h2>",
        _citizens(report, zone),
        "<h2>Method</h2>",
        _method(report),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )


def _db(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def _count(value: int | None) -> str:
    return NONE if value is None else str(value)


def _local(instant: datetime | None, zone: ZoneInfo) -> str:
    return NONE if instant is None else instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _row(cells: Iterable[str], *, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = [_row(head, header=True), *(_row(r) for r in rows)]
    return "<table>" + "".join(lines) + "</table>"


def _intro(report: Report, zone: ZoneInfo) -> str:
    weather = (
        "Data measured in wind above 5 m/s at the microphone or in rain is left out (ISO 1996-2)."
        if report.weather == "exclude"
        else "Data measured in wind or rain is <strong>kept</strong> (weather=include); "
        "ISO 1996-2 asks for it to be left out of long-term indicators."
    )
    first, last = report.period.first, report.period.last
    return (
        f'<p class="muted">Local dates {first.isoformat()} to {last.isoformat()} (exclusive), '
        f"zone {html.escape(report.zone)}. Generated {_local(report.generated, zone)}. "
        f"{weather}</p>"
    )


def _above(value: float | None, guideline: float | None) -> str:
    text = _db(value)
    if value is not None and guideline is not None and value > guideline:
        return f'<span class="above" title="above the guideline value">{text}</span>'
    return text


def _summary_table(sensors: Sequence[SensorReport]) -> str:
    head = (
        "Sensor",
        "Source",
        "Lden",
        "Lday",
        "Levening",
        "Lnight",
        "LAeq,24h",
        "Guideline",
        "Lden year before",
        "Change",
        "Days above",
        "Hours above",
    )
    rows = []
    for s in sensors:
        t, guide = s.total, (s.guideline.value_db if s.guideline else None)
        change = None
        if t.levels.lden is not None and s.previous.levels.lden is not None:
            change = t.levels.lden - s.previous.levels.lden
        rows.append(
            (
                html.escape(s.sensor.id),
                html.escape(s.sensor.source or NONE),
                _above(t.levels.lden, guide),
                _db(t.levels.lday),
                _db(t.levels.levening),
                _db(t.levels.lnight),
                _db(t.levels.laeq24),
                _db(guide),
                _db(s.previous.levels.lden),
                NONE if change is None else f"{change:+.1f}",
                _days_above(t),
                _hours_above(t),
            )
        )
    return _table(head, rows) + (
        '<p class="muted">dB re 20 µPa. Days above: dates whose Lden is above the guideline '
        "value, of the dates with an Lden. Hours above: hours whose LAeq,1h plus the Lden "
        "penalty of its period (evening 5 dB, night 10 dB) is above it; for rail, hours with a "
        "LAFmax above 85 dB in brackets.</p>"
    )


def _days_above(f: Figures) -> str:
    return NONE if f.days_above is None else f"{f.days_above} of {f.days_with_lden}"


def _hours_above(f: Figures) -> str:
    if f.hours_above is None:
        return NONE
    text = f"{f.hours_above} of {f.hours_with_data}"
    return text if f.hours_lafmax_above is None else f"{text} ({f.hours_lafmax_above})"


def _coverage_table(sensors: Sequence[SensorReport], weather: str) -> str:
    head = (
        "Sensor",
        "Coverage",
        "Weather (h)",
        "Annotations (h)",
        "Corrections (h)",
        "Outages (h)",
        "Calibration uncertain (h)",
    )
    rows = [
        (
            html.escape(s.sensor.id),
            f"{s.total.levels.coverage:.1%}",
            *(_hours(s.total.excluded_s.get(cause, 0.0)) for cause, _ in _CAUSES),
            _hours(s.total.outage_s),
            _hours(s.total.calibration_uncertain_s),
        )
        for s in sensors
    ]
    kept = "" if weather == "exclude" else " Weather was kept in this report."
    return _table(head, rows) + (
        '<p class="muted">Coverage: measured seconds kept over the seconds of the day, evening '
        "and night periods. Left out, in hours of measured data: weather (wind above 5 m/s at "
        "the microphone or rain), staff annotations that exclude a period, staff corrections "
        "that exclude a range. Outages: no data, or data quarantined. Calibration uncertain: "
        "time between two field calibrations more than 0.5 dB apart; that data is kept and "
        f"flagged.{kept}</p>"
    )


def _sensor_section(s: SensorReport, report: Report, zone: ZoneInfo) -> str:
    sensor = s.sensor
    guide = s.guideline.value_db if s.guideline else None
    year = report.period.kind == "year"
    unit = "month" if year else "date"
    head = (
        "Date" if not year else "Month",
        "Lden",
        "Lday",
        "Levening",
        "Lnight",
        "LAeq,24h",
        "Coverage",
        "Left out (h)",
        "Outage (h)",
    )
    rows = [
        (
            html.escape(p.label),
            _above(p.levels.lden, guide),
            _db(p.levels.lday),
            _db(p.levels.levening),
            _db(p.levels.lnight),
            _db(p.levels.laeq24),
            f"{p.levels.coverage:.0%}",
            _hours(p.excluded_total_s),
            _hours(p.outage_s),
        )
        for p in s.parts
    ]
    return (
        f"<section><h2>{html.escape(sensor.id)}: {html.escape(sensor.name)}</h2>"
        f'<p class="muted">Source: {html.escape(sensor.source or "not given")}. '
        f"Guideline value (Lden, dwellings): {_db(guide)} dB.</p>"
        f"<h3>Lden per {unit}</h3>"
        + lden_by_part(s.parts, s.previous_parts if year else None, guide)
        + _table(head, rows)
        + _calibrations(s, zone)
        + _spans(s, zone)
        + "</section>"
    )


def _calibrations(s: SensorReport, zone: ZoneInfo) -> str:
    if not s.calibrations:
        return "<h3>Calibration history</h3><p class='muted'>No field calibration logged.</p>"
    head = ("When", "Kind", "By", "Reference", "Read before", "After", "Deviation", "Drift")
    rows = []
    for entry in s.calibrations:
        c = entry.calibration
        drift = NONE if entry.drift_db is None else f"{entry.drift_db:+.2f}"
        if entry.drift_db is not None and abs(entry.drift_db) > 0.5:
            drift = f'<span class="above">{drift}</span>'
        rows.append(
            (
                _local(c.ts, zone),
                html.escape(c.kind),
                html.escape(c.by or NONE),
                f"{c.reference_db:.2f}",
                f"{c.before_db:.2f}",
                NONE if c.after_db is None else f"{c.after_db:.2f}",
                f"{entry.deviation_db:+.2f}",
                drift,
            )
        )
    return "<h3>Calibration history</h3>" + _table(head, rows)


def _spans(s: SensorReport, zone: ZoneInfo) -> str:
    spans = [*s.exclusions, *s.uncertain]
    if not spans:
        return ""
    label = {"annotation": "annotation", "correction": "correction", "calibration": "uncertain"}
    rows = [
        (
            _local(datetime.fromtimestamp(span.start, zone), zone),
            _local(datetime.fromtimestamp(span.end, zone), zone),
            label.get(span.cause, span.cause),
            f'<span class="text">{html.escape(span.reason)}</span>',
        )
        for span in spans[:200]
    ]
    return "<h3>Periods left out or flagged by staff</h3>" + _table(
        ("From", "To", "Why", "Reason"), rows
    )


def _alerts_table(alerts: Sequence[AlertOutcome], total: int, zone: ZoneInfo) -> str:
    if not alerts:
        return '<p class="muted">No alert was active in this period.</p>'
    head = ("Opened", "Sensor", "Rule", "Value", "Outcome", "Resolved", "Note")
    rows = [
        (
            _local(a.alert.opened_at, zone),
            html.escape(a.alert.sensor_id),
            html.escape(a.alert.rule_name),
            NONE if a.alert.value is None else f"{a.alert.value:.1f} {html.escape(a.alert.unit)}",
            html.escape(a.outcome),
            _local(a.alert.resolved_at, zone),
            f'<span class="text">{html.escape(a.note)}</span>',
        )
        for a in alerts
    ]
    more = "" if total <= len(alerts) else f'<p class="muted">{total - len(alerts)} more.</p>'
    return _table(head, rows) + more


def _citizens(report: Report, zone: ZoneInfo) -> str:
    summary = report.citizen_summary
    if summary.total == 0:
        return '<p class="muted">No citizen reported noise in this period.</p>'
    counts = ", ".join(f"{k}: {v}" for k, v in summary.by_category.items())
    states = ", ".join(f"{k}: {v}" for k, v in summary.by_status.items())
    rows = [_citizen_row(entry, zone) for entry in report.citizen_reports]
    return (
        f'<p class="muted">By category: {counts}. By status: {states}.</p>'
        + _table(
            ("When", "Category", "Status", "Text", "Nearest sensor", "LAeq 15 min"),
            rows,
        )
        + '<p class="muted">LAeq over the 15 minutes around the time reported, at the '
        "nearest public sensor within 2 km.</p>"
    )


def _citizen_row(entry: CitizenEntry, zone: ZoneInfo) -> tuple[str, ...]:
    r, near = entry.report, entry.nearest
    where = NONE if near is None else f"{html.escape(near.sensor_id)} ({near.distance_m:.0f} m)"
    return (
        _local(r.ts, zone),
        html.escape(r.category),
        html.escape(r.status),
        f'<span class="text">{html.escape(r.text or "")}</span>',
        where,
        NONE if near is None else _db(near.laeq),
    )


def _method(report: Report) -> str:
    return (
        '<p class="muted">Long-term levels are energetic means over every measured second of '
        "each period in the dates taken together; Lden combines Lday (07-19), Levening "
        "(19-22, +5 dB) and Lnight (22-07, +10 dB) with weights 12/3/9 h (Miljøstyrelsen; EU "
        "Directive 2002/49/EC Annex I). LAeq,24h is the calendar day 00-24 local. Guideline "
        "values: Miljøstyrelsen, vejledning nr. 4/2007 (road, Lden 58 dB at dwellings) and "
        "the 2007 supplement to vejledning nr. 1/1997 (rail, Lden 64 dB and LAmax 85 dB); "
        "they refer to a yearly average and are guidelines, not binding limits. The rail "
        "LAmax is defined with time weighting Slow; LAFmax (Fast) reads at least as high, so "
        "its count is conservative. The comparison is with the same "
        f"{report.period.kind} a year before, computed the same way.</p>"
    )
