"""What a monthly or annual report holds, read from a deployment's stores: each sensor's
figures over the period, its months or dates and the same period a year before; its field
calibrations, flagged and excluded spans; the alerts of the period with their outcome; and the
citizens' reports of the period beside the level at the nearest sensor.

One function, :func:`build_report`, reads everything (blocking); the renderers
(:mod:`noiselab.reports.html`, :mod:`noiselab.reports.csv_rows`) only format it. A report is
of one sensor or of the whole network (every registered sensor, ``sensor_id=None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from noiselab.analysis.guidelines import GuidelineValue, classify, guideline_for
from noiselab.calibration.history import HistoryEntry, with_drift
from noiselab.citizens.nearby import NearbySensor, nearby
from noiselab.citizens.review import ReportSummary, reports_of_period, summarise
from noiselab.model import Sensor
from noiselab.reports.figures import Figures, figures_of
from noiselab.reports.period import ReportPeriod
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import Alert, CitizenReport, MetadataStore
from noiselab.validity import Span, Validity, WeatherChoice
from noiselab.validity.daily import DailyPlan, ValidDay, ValidPeriod, valid_period

__all__ = [
    "MAX_LISTED",
    "AlertOutcome",
    "CitizenEntry",
    "Report",
    "SensorReport",
    "build_report",
]

MAX_LISTED = 500
"""Alerts and citizens' reports listed in one report (all of them are counted)."""


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """An alert active in the period and what became of it: ``outcome`` is its state at the
    time of the report (``open``, ``acknowledged``, ``resolved``), ``note`` the last note a
    person wrote on it (empty when none)."""

    alert: Alert
    outcome: str
    note: str


@dataclass(frozen=True, slots=True)
class CitizenEntry:
    """A citizen's report with the nearest public sensor and its LAeq around the report's time
    (``None`` when no sensor is within 2 km)."""

    report: CitizenReport
    nearest: NearbySensor | None


@dataclass(frozen=True, slots=True)
class SensorReport:
    """One sensor's part of a report: ``total`` over the period, ``parts`` per date (a month)
    or per month (a year), the same for the year before, the ``daily`` indicators, the
    ``calibrations`` bounding the period with their drift, and the spans of the period that
    were flagged (``uncertain``) or excluded by staff (``exclusions``: annotations and
    corrections; the weather's are counted, not listed)."""

    sensor: Sensor
    guideline: GuidelineValue | None
    total: Figures
    parts: list[Figures]
    previous: Figures
    previous_parts: list[Figures]
    daily: list[ValidDay]
    calibrations: list[HistoryEntry]
    uncertain: list[Span]
    exclusions: list[Span]


@dataclass(frozen=True, slots=True)
class Report:
    """A monthly or annual report of one sensor (``scope`` its id) or of the network
    (``scope`` None)."""

    period: ReportPeriod
    scope: str | None
    zone: str
    weather: WeatherChoice
    generated: datetime
    sensors: list[SensorReport]
    alerts: list[AlertOutcome]
    alerts_total: int
    citizen_reports: list[CitizenEntry]
    citizen_summary: ReportSummary


def build_report(
    store: ReadingStore,
    meta: MetadataStore,
    validity: Validity,
    period: ReportPeriod,
    plan: DailyPlan,
    *,
    sensor_id: str | None = None,
    weather: WeatherChoice = "exclude",
    now: datetime | None = None,
) -> Report:
    """The report of ``period`` for ``sensor_id`` (``LookupError`` when it is not registered)
    or, without one, every registered sensor (ordered by id)."""
    everyone = sorted(meta.sensors.all(), key=lambda s: s.id)
    chosen = everyone
    if sensor_id is not None:
        chosen = [s for s in everyone if s.id == sensor_id]
        if not chosen:
            raise LookupError(f"sensor {sensor_id!r} is not registered")
    start, end = _instants(period, plan)
    # Spans from the year before through the period, whose last night ends the next morning.
    within = _instants(period.year_before(), plan)[0], end + timedelta(days=2)
    parts = [
        _sensor_report(store, meta, validity, (period, plan), s, weather, within) for s in chosen
    ]
    alerts = _alerts(meta, sensor_id, start, end)
    citizens = _citizen_reports(store, meta, everyone, sensor_id, start, end)
    return Report(
        period=period,
        scope=sensor_id,
        zone=plan.zone.key,
        weather=weather,
        generated=now or datetime.now(UTC),
        sensors=parts,
        alerts=alerts[:MAX_LISTED],
        alerts_total=len(alerts),
        citizen_reports=citizens[:MAX_LISTED],
        citizen_summary=summarise(entry.report for entry in citizens),
    )


def _instants(period: ReportPeriod, plan: DailyPlan) -> tuple[datetime, datetime]:
    """The local midnights that open and close the period's dates, in UTC."""
    first = datetime(period.first.year, period.first.month, period.first.day, tzinfo=plan.zone)
    last = datetime(period.last.year, period.last.month, period.last.day, tzinfo=plan.zone)
    return first.astimezone(UTC), last.astimezone(UTC)


def _sensor_report(  # noqa: PLR0917 - one sensor's inputs
    store: ReadingStore,
    meta: MetadataStore,
    validity: Validity,
    when: tuple[ReportPeriod, DailyPlan],
    sensor: Sensor,
    weather: WeatherChoice,
    within: tuple[datetime, datetime],
) -> SensorReport:
    """One sensor's part; ``within`` the instants its validity spans are read over."""
    period, plan = when
    ranges = [c.as_range() for c in meta.corrections.active(sensor.id)]
    valid = validity.for_sensor(sensor.id, ranges, weather, within)
    before = period.year_before()
    source = sensor.source or "background"
    guideline = guideline_for(source)
    lafmax_guideline = classify(source).lmax_guideline
    this = valid_period(store, plan, sensor.id, period.first, period.last, valid.ranges)
    earlier = valid_period(store, plan, sensor.id, before.first, before.last, valid.ranges)

    def figures(of: ValidPeriod, p: ReportPeriod) -> tuple[Figures, list[Figures]]:
        total = figures_of(p.label, of, slice(None), guideline, lafmax_guideline, valid)
        return total, [
            figures_of(label, of, rows, guideline, lafmax_guideline, valid)
            for label, rows in _parts(p)
        ]

    total, parts = figures(this, period)
    previous, previous_parts = figures(earlier, before)
    start, end = _instants(period, plan)
    t0, t1 = start.timestamp(), end.timestamp()
    return SensorReport(
        sensor=sensor,
        guideline=guideline,
        total=total,
        parts=parts,
        previous=previous,
        previous_parts=previous_parts,
        daily=this.days,
        calibrations=with_drift(meta.calibrations.around(sensor.id, start, end)),
        uncertain=valid.flags(t0, t1),
        exclusions=[s for s in valid.exclusions(t0, t1) if s.cause != "weather"],
    )


def _parts(period: ReportPeriod) -> list[tuple[str, slice]]:
    """The labelled date slices a period is shown in: its dates (a month) or its months."""
    if period.month is not None:
        first = period.first
        return [
            ((first.replace(day=i + 1)).isoformat(), slice(i, i + 1)) for i in range(period.days)
        ]
    offsets = []
    for month in period.months():
        lo = (month.first - period.first).days
        offsets.append((month.label, slice(lo, lo + month.days)))
    return offsets


def _alerts(
    meta: MetadataStore, sensor_id: str | None, start: datetime, end: datetime
) -> list[AlertOutcome]:
    """The alerts active at some time of ``[start, end)``, oldest first, with their outcome."""
    found = meta.alerts.list_alerts(sensor_id=sensor_id, start=start, end=end, limit=10_000)
    found.sort(key=lambda a: (a.opened_at, a.id))
    outcomes = []
    for i, alert in enumerate(found):
        note = ""
        if i < MAX_LISTED:
            notes = [e.note for e in meta.alerts.history(alert.id) if e.actor != "evaluator"]
            note = next((n for n in reversed(notes) if n.strip()), "")
        outcomes.append(AlertOutcome(alert, alert.state, note))
    return outcomes


def _citizen_reports(  # noqa: PLR0917 - the deployment and the scope
    store: ReadingStore,
    meta: MetadataStore,
    sensors: Sequence[Sensor],
    sensor_id: str | None,
    start: datetime,
    end: datetime,
) -> list[CitizenEntry]:
    """The reports of the period (of one sensor: those it is among the nearest sensors of),
    each with the nearest sensor's level; the levels of the first :data:`MAX_LISTED` only."""
    entries: list[CitizenEntry] = []
    for report in reports_of_period(meta, start, end):
        if sensor_id is None and len(entries) >= MAX_LISTED:
            entries.append(CitizenEntry(report, None))  # counted, not listed: no level read
            continue
        near = nearby(store, sensors, report.lat, report.lon, report.ts)
        if sensor_id is not None:
            near = [n for n in near if n.sensor_id == sensor_id]
            if not near:
                continue
        entries.append(CitizenEntry(report, near[0] if near else None))
    return entries
