"""A trial's evaluation as one self-contained HTML page a vendor can download and send on.

Inline CSS and inline SVG charts drawn here; no scripts, fonts, images or anything fetched.
Every string that comes from a user (trial name, vendor, description, sensor ids, the reasons
and names of corrections) is escaped with :func:`html.escape`. Every staff correction
overlapping the trial's sensors and periods is cited, applied or withdrawn. Levels in dB re
20 µPa; dates are local (the configured zone).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from noiselab.analysis.trial import (
    MIN_DAY_FRACTION,
    MIN_DAYS,
    MIN_HOUR_COVERAGE,
    MIN_PHASE_COVERAGE,
    BandEffect,
    DayValues,
    PhaseSummary,
)
from noiselab.charts import BOTTOM, LEFT, RIGHT, TOP, WIDTH
from noiselab.charts import Axes as _Axes
from noiselab.charts import line as _line
from noiselab.charts import nice_range as _nice_range
from noiselab.charts import svg as _svg
from noiselab.charts import y_grid as _y_grid
from noiselab.model import utc
from noiselab.store.metadata import Correction
from noiselab.trials.citations import corrections_note
from noiselab.trials.evaluation import TrialResult, day_date

__all__ = ["render_report"]

TREATED, CONTROL, AFTER_SHADE = "#c2410c", "#1d4ed8", "#f1f5f9"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:800px;margin:2em auto;
padding:0 1em;color:#0f172a;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;
border-bottom:1px solid #cbd5e1}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .8em;text-align:right;
border-bottom:1px solid #e2e8f0}th:first-child,td:first-child{text-align:left}
.verdict{padding:.8em 1em;border-left:6px solid #64748b;background:#f8fafc}
.reduction{border-color:#15803d}.increase{border-color:#b91c1c}
.insufficient_data{border-color:#a16207}
.muted{color:#475569;font-size:.9em}.desc{white-space:pre-wrap}
svg{display:block;margin:.5em 0}svg text{font-size:11px;fill:#334155}
"""


def _day_axis(axes: _Axes, days: Sequence[int], after_first: int | None) -> list[str]:
    parts = []
    if after_first is not None:
        x = axes.x(after_first - 0.5)
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP}" width="{WIDTH - RIGHT - x:.1f}" '
            f'height="{axes.height - TOP - BOTTOM}" fill="{AFTER_SHADE}"/>'
            f'<text x="{x + 4:.1f}" y="{TOP + 12}">after</text>'
        )
    step = max(1, math.ceil(len(days) / 8))
    for day in days[::step]:
        parts.append(
            f'<text x="{axes.x(day):.1f}" y="{axes.height - BOTTOM + 16}" text-anchor="middle">'
            f"{day_date(day).strftime('%d %b')}</text>"
        )
    return parts


def _levels_chart(daily: Sequence[DayValues]) -> str:
    values = [v for d in daily for v in (d.treated_db, d.control_db) if v is not None]
    if not values:
        return '<p class="muted">No days with matched hours.</p>'
    lo, hi, step = _nice_range(values)
    days = [d.day for d in daily]
    axes = _Axes(min(days) - 0.5, max(days) + 0.5, lo, hi)
    after = next((d.day for d in daily if d.phase == "after"), None)
    parts = _day_axis(axes, days, after) + _y_grid(axes, step)
    parts += _line(axes, [(d.day, d.treated_db) for d in daily], TREATED)
    parts += _line(axes, [(d.day, d.control_db) for d in daily], CONTROL)
    return _svg(parts, "Daily LAeq of treated and control sensors")


def _difference_chart(daily: Sequence[DayValues], before: PhaseSummary, after: PhaseSummary) -> str:
    values = [d.difference_db for d in daily if d.difference_db is not None]
    if not values:
        return '<p class="muted">No days with matched hours.</p>'
    lo, hi, step = _nice_range([*values, 0.0], pad=0.5)
    days = [d.day for d in daily]
    axes = _Axes(min(days) - 0.5, max(days) + 0.5, lo, hi)
    first_after = next((d.day for d in daily if d.phase == "after"), None)
    parts = _day_axis(axes, days, first_after) + _y_grid(axes, step)
    for phase, summary in (("before", before), ("after", after)):
        span = [d.day for d in daily if d.phase == phase]
        if span and summary.difference_db is not None:
            y = axes.y(summary.difference_db)
            parts.append(
                f'<line x1="{axes.x(min(span) - 0.4):.1f}" x2="{axes.x(max(span) + 0.4):.1f}" '
                f'y1="{y:.1f}" y2="{y:.1f}" stroke="#0f172a" stroke-dasharray="5 3"/>'
            )
    parts += _line(axes, [(d.day, d.difference_db) for d in daily], "#7c3aed")
    return _svg(parts, "Daily difference treated minus control")


def _interval_chart(rows: Sequence[tuple[str, float | None, float | None, float | None]]) -> str:
    """Horizontal effect-and-interval bars, one per row ``(label, effect, low, high)``."""
    shown = [r for r in rows if r[1] is not None]
    if not shown:
        return '<p class="muted">No effect could be estimated.</p>'
    values = [v for r in shown for v in r[1:] if v is not None] + [0.0]
    lo, hi, step = _nice_range(values, pad=0.5)
    height = TOP + BOTTOM + 22 * len(rows)
    axes = _Axes(lo, hi, 0, 1, height)
    parts = []
    n = round((hi - lo) / step)
    for i in range(n + 1):
        value = lo + i * step
        x = axes.x(value)
        colour = "#0f172a" if abs(value) < 1e-9 else "#e2e8f0"
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}" stroke="{colour}"/>'
            f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">{value:g} dB</text>'
        )
    for i, (label, effect, low, high) in enumerate(rows):
        y = TOP + 11 + 22 * i
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{html.escape(label)}</text>'
        )
        if effect is None or low is None or high is None:
            continue
        parts.append(
            f'<line x1="{axes.x(low):.1f}" x2="{axes.x(high):.1f}" y1="{y}" y2="{y}" '
            f'stroke="#0f172a" stroke-width="2"/>'
            f'<circle cx="{axes.x(effect):.1f}" cy="{y}" r="4" fill="#15803d"/>'
        )
    return _svg(parts, "Effect with its confidence interval", height)


def _fmt(value: float | None, unit: str = " dB") -> str:
    return "&ndash;" if value is None else f"{value:.2f}{unit}"


def _phase_rows(before: PhaseSummary, after: PhaseSummary) -> str:
    rows = [
        ("Treated LAeq", _fmt(before.treated_db), _fmt(after.treated_db)),
        ("Control LAeq", _fmt(before.control_db), _fmt(after.control_db)),
        ("Treated &minus; control", _fmt(before.difference_db), _fmt(after.difference_db)),
        ("Matched hours", str(before.matched_hours), str(after.matched_hours)),
        ("Coverage", f"{before.coverage:.0%}", f"{after.coverage:.0%}"),
        ("Complete days", str(before.complete_days), str(after.complete_days)),
    ]
    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    return f"<table><tr><th></th><th>Before</th><th>After</th></tr>{body}</table>"


def _band_rows(
    bands: Sequence[BandEffect],
) -> list[tuple[str, float | None, float | None, float | None]]:
    return [(f"{b.band_hz:g} Hz", b.effect_db, b.ci_low, b.ci_high) for b in bands]


def _correction_row(c: Correction, local: Callable[[datetime], str]) -> str:
    e = html.escape
    kind = "excluded" if c.kind == "exclude" else f"offset {c.offset_db:+.2f} dB"
    status = "applied"
    if c.withdrawn_at is not None:
        status = (
            f"withdrawn {local(c.withdrawn_at)} by {e(c.withdrawn_by or '')}: "
            f"{e(c.withdraw_reason or '')} (not applied)"
        )
    return (
        f"<tr><td>{c.id}</td><td>{e(c.sensor_id)}</td>"
        f"<td>{local(c.start)} &ndash; {local(c.end)}</td><td>{kind}</td>"
        f'<td class="desc">{e(c.reason)}</td><td>{e(c.created_by)}, {local(c.created_at)}</td>'
        f"<td>{status}</td></tr>"
    )


def _corrections(result: TrialResult, local: Callable[[datetime], str]) -> str:
    """The section citing the corrections (a sentence when there are none)."""
    note = f"<p>{html.escape(corrections_note(result))}</p>"
    if not result.corrections:
        return f"<h2>Corrections of the data</h2>{note}"
    head = (
        "<tr><th>Id</th><th>Sensor</th><th>Range (local)</th><th>Correction</th>"
        "<th>Reason</th><th>Made by, at</th><th>Status</th></tr>"
    )
    rows = "".join(_correction_row(c, local) for c in result.corrections)
    return (
        f"<h2>Corrections of the data</h2>{note}<table>{head}{rows}</table>"
        '<p class="muted">Staff corrections are kept in an audit log; the stored readings '
        "are never changed. An excluded range is left out of the hourly levels, an offset is "
        "added to every level in its range.</p>"
    )


_CAUSE_WORDS = (
    ("weather", "weather outside the conditions of ISO 1996-2 (wind above 5 m/s at the "
     "microphone, or rain)"),
    ("annotation", "staff annotations that exclude a period"),
    ("correction", "staff corrections that exclude a range"),
)  # fmt: skip


def _left_out(result: TrialResult, local: Callable[[datetime], str]) -> str:
    """What the evaluation left out, by cause, and the calibration-uncertain spans."""
    seconds = dict(result.excluded_s)
    rows = "".join(
        f"<tr><td>{html.escape(words)}</td><td>{seconds.get(cause, 0.0) / 3600:.1f} h</td></tr>"
        for cause, words in _CAUSE_WORDS
    )
    kept = (
        ""
        if result.weather == "exclude"
        else "<p><strong>Weather was kept in this evaluation (weather=include).</strong></p>"
    )
    flagged = "".join(
        f"<li>{local(utc(s.start))} &ndash; {local(utc(s.end))}: {html.escape(s.reason)}</li>"
        for s in result.flagged
    )
    uncertain = (
        f"<p>Calibration uncertain (kept, flagged):</p><ul>{flagged}</ul>" if flagged else ""
    )
    return (
        "<h2>Data left out</h2>"
        f"<table><tr><th>Cause</th><th>Measured time left out</th></tr>{rows}</table>"
        f"{kept}{uncertain}"
        '<p class="muted">Hours of the treated and control sensors\' measured data over both '
        "periods; what is left out is not counted in any hour's level or coverage.</p>"
    )


def render_report(result: TrialResult, *, zone: ZoneInfo, generated: datetime) -> str:
    """The report page of ``result`` (UTF-8 HTML text)."""
    trial, ev, r = result.trial, result.evaluation, result.evaluation.baci
    e = html.escape

    def local(t: datetime) -> str:
        return t.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    hours = ", ".join(str(h) for h in trial.hours) if trial.hours else "all hours"
    effect_rows: list[tuple[str, float | None, float | None, float | None]] = [
        (
            "LAeq",
            None if r is None else r.effect_db,
            None if r is None else r.ci_low,
            None if r is None else r.ci_high,
        )
    ]
    effect_text = (
        "No effect could be estimated."
        if r is None
        else f"Effect {r.effect_db:+.2f} dB (reduction {r.reduction_db:.2f} dB), "
        f"{r.confidence:.0%} confidence interval {r.ci_low:+.2f} to {r.ci_high:+.2f} dB, "
        f"from {r.n_boot} bootstrap resamples of {r.days_before} + {r.days_after} days."
    )
    bands = (
        f"<h2>Effect per third-octave band (LZeq)</h2>{_interval_chart(_band_rows(result.bands))}"
        if result.bands
        else f'<h2>Effect per band</h2><p class="muted">{e(result.bands_note)}</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trial report: {e(trial.name)}</title><style>{_CSS}</style></head>
<body>
<h1>{e(trial.name)}</h1>
<p class="muted">Vendor {e(trial.vendor)} · trial {e(trial.id)} · report generated
{e(local(generated))} ({e(zone.key)}) by noiselab, Vallensbæk noise Living Lab</p>
<h2>Product</h2><p class="desc">{e(trial.description) or "&ndash;"}</p>
<h2>Result</h2>
<div class="verdict {e(ev.verdict.status)}"><strong>{e(ev.verdict.text)}</strong></div>
<p>{e(effect_text)}</p>
{_interval_chart(effect_rows)}
{_phase_rows(ev.before, ev.after)}
<h2>Setup</h2>
<table>
<tr><td>Treated sensors</td><td>{e(", ".join(trial.treated))}</td></tr>
<tr><td>Control sensors</td><td>{e(", ".join(trial.control))}</td></tr>
<tr><td>Before</td><td>{local(trial.before_start)} &ndash; {local(trial.before_end)}</td></tr>
<tr><td>After</td><td>{local(trial.after_start)} &ndash; {local(trial.after_end)}</td></tr>
<tr><td>Hours of day</td><td>{e(hours)}</td></tr>
</table>
{_corrections(result, local)}
{_left_out(result, local)}
<h2>Daily levels, treated and control</h2>
<p class="muted"><span style="color:{TREATED}">■</span> treated
<span style="color:{CONTROL}">■</span> control · energetic daily mean of the matched hours</p>
{_levels_chart(ev.daily)}
<h2>Daily difference, treated &minus; control</h2>
<p class="muted">Dashed: the period's difference (energetic means over all matched hours);
the effect is the change of this difference from before to after.</p>
{_difference_chart(ev.daily, ev.before, ev.after)}
{bands}
<h2>Method</h2>
<p>Before-After-Control-Impact (BACI) comparison (Stewart-Oaten, Murdoch &amp; Parker 1986,
<i>Ecology</i> 67(4)): effect = (treated &minus; control after) &minus;
(treated &minus; control before), from hourly LAeq,1h averaged energetically over the hours
both the treated and the control sensors measured. Several sensors of one side are combined
per hour as their energetic mean. The interval is a percentile bootstrap (Efron &amp;
Tibshirani 1993) resampling whole days within each period, so the strong day-to-day link
between the two sites is kept. A negative effect means the treated site got quieter relative
to the control.</p>
<p>A verdict needs, in each period, at least {MIN_DAYS} complete days (at least
{MIN_DAY_FRACTION:.0%} of the selected hours matched) and {MIN_PHASE_COVERAGE:.0%} of the
selected hours matched; an hour of a sensor counts when it measured at least
{MIN_HOUR_COVERAGE:.0%} of it.</p>
<h2>Caveats</h2>
<ul>
<li>The control must not be affected by the product, and without it the treated &minus; control
difference must have stayed the same (parallel trends).</li>
<li>Weather spells and weekly traffic cycles span several days and are not captured by the
day bootstrap: the interval may be too narrow with few or partial weeks per period.</li>
<li>Energetic means are dominated by loud hours; both periods should cover the same mix of
hours (day/night, weekday/weekend).</li>
<li>A sensor-based field measurement, not a type test of the product
(cf. ISO 10847 for in-situ insertion loss of barriers).</li>
</ul>
</body></html>
"""
