"""Reads a trial's data from the store and hands it to :mod:`noiselab.analysis.trial`.

Each phase is a grid of whole UTC hours ``[start, end)`` (whole local hours too, as
Europe/Copenhagen's offsets are whole hours). Per sensor the store's hourly energetic LAeq and
coverage (``levels(..., Every.H1)``) fill the grid; each group (treated, control) is combined
per hour with :func:`~noiselab.analysis.trial.combine_sensors`. Hours of day and day labels
(local date ordinals) are computed in the configured zone, so daylight-saving days have 23 or
25 hours. Band levels come from :meth:`ReadingStore.hourly_bands` the same way.

Active staff corrections of the trial's sensors (:mod:`noiselab.store.metadata.corrections`)
are applied on the way (:mod:`noiselab.corrections`): a sensor with corrections gets its hours
from the hourly roll-up where one correction state holds for the whole hour and from its
minutes where a correction's edge cuts the hour. The result keeps every correction it was
given, withdrawn ones too, so the answers and the report can cite them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import Every
from noiselab.analysis.corrections import ExcludedRows, RangeCorrection
from noiselab.analysis.decibels import leq_along
from noiselab.analysis.trial import (
    MIN_HOUR_COVERAGE,
    BandEffect,
    BandPhase,
    PhaseHours,
    TrialEvaluation,
    band_effects,
    combine_sensors,
    evaluate_trial,
)
from noiselab.corrections import active_ranges, corrected_bands, validated_hours
from noiselab.errors import QueryError
from noiselab.store.base import BandLevels, ReadingStore
from noiselab.store.metadata import Correction, Trial
from noiselab.validity import SensorValidity, Span, WeatherChoice

__all__ = ["EvaluationCache", "TrialResult", "day_date", "evaluate"]

HOUR_S = 3600

Ranges = Mapping[str, Sequence[RangeCorrection]]
"""Active corrections by sensor id."""


@dataclass(frozen=True, slots=True)
class TrialResult:
    """A trial's evaluation, its band effects (empty when no spectra) and a note on them, and
    the corrections overlapping its sensors and periods (withdrawn ones too, oldest first):
    the active ones were applied."""

    trial: Trial
    evaluation: TrialEvaluation
    bands: list[BandEffect]
    bands_note: str
    corrections: tuple[Correction, ...] = ()
    excluded_s: tuple[tuple[str, float], ...] = ()
    """Measured seconds of the trial's sensors and periods left out, by cause."""
    flagged: tuple[Span, ...] = ()
    """Spans of the trial's sensors and periods that are flagged ("calibration uncertain")."""
    weather: WeatherChoice = "exclude"
    """Whether data measured outside the weather conditions of ISO 1996-2 was left out."""

    @property
    def applied(self) -> tuple[Correction, ...]:
        """The corrections applied: the active ones."""
        return tuple(c for c in self.corrections if c.active)


@dataclass(frozen=True, slots=True)
class _Grid:
    start: float
    hours: int
    day: npt.NDArray[np.intp]
    local_hour: npt.NDArray[np.intp]

    @classmethod
    def of(cls, start: datetime, end: datetime, zone: ZoneInfo) -> _Grid:
        t0 = start.timestamp()
        n = round((end.timestamp() - t0) / HOUR_S)
        local = [datetime.fromtimestamp(t0 + i * HOUR_S, zone) for i in range(n)]
        return cls(
            start=t0,
            hours=n,
            day=np.array([t.date().toordinal() for t in local], np.intp),
            local_hour=np.array([t.hour for t in local], np.intp),
        )

    def index(self, t: FloatArray) -> npt.NDArray[np.intp]:
        return np.asarray(np.round((t - self.start) / HOUR_S), np.intp)


def day_date(day: int) -> date:
    """The local date of a day label (a date ordinal)."""
    return date.fromordinal(day)


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a trial's hours come from: the store, the zone of its ``1h`` buckets, and the
    active corrections by sensor (such a sensor is read through :mod:`noiselab.corrections`)."""

    store: ReadingStore
    zone: ZoneInfo
    ranges: Ranges
    excluded: list[ExcludedRows] = field(default_factory=list)

    def hours(
        self, sensor_id: str, start: datetime, end: datetime
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Hour starts (Unix s), LAeq,1h (dB) and coverage of one sensor."""
        if sensor_id in self.ranges:
            ranges = self.ranges[sensor_id]
            *found, excluded = validated_hours(self.store, sensor_id, start, end, ranges)
            self.excluded.append(excluded)
            return found[0], found[1], found[2]
        points = self.store.levels(sensor_id, start, end, Every.H1, self.zone)
        return (
            np.array([p.t.timestamp() for p in points], np.float64),
            np.array([p.laeq for p in points], np.float64),
            np.array([p.coverage for p in points], np.float64),
        )

    def bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly band levels of one sensor."""
        return corrected_bands(self.store, sensor_id, start, end, self.ranges.get(sensor_id, ()))


def _group_levels(
    source: _Source, ids: tuple[str, ...], grid: _Grid, end: datetime
) -> tuple[FloatArray, FloatArray]:
    levels = np.full((len(ids), grid.hours), np.nan)
    coverage = np.zeros((len(ids), grid.hours))
    start = datetime.fromtimestamp(grid.start, UTC)
    for row, sensor_id in enumerate(ids):
        t, laeq, cov = source.hours(sensor_id, start, end)
        i = grid.index(t)
        inside = (i >= 0) & (i < grid.hours)
        levels[row, i[inside]] = laeq[inside]
        coverage[row, i[inside]] = cov[inside]
    return combine_sensors(levels, coverage)


def _phase(
    trial: Trial, source: _Source, start: datetime, end: datetime
) -> tuple[PhaseHours, _Grid]:
    grid = _Grid.of(start, end, source.zone)
    treated, t_cov = _group_levels(source, trial.treated, grid, end)
    control, c_cov = _group_levels(source, trial.control, grid, end)
    selected = np.isin(grid.local_hour, trial.hours) if trial.hours else np.ones(grid.hours, bool)
    phase = PhaseHours(treated, control, t_cov, c_cov, grid.day, selected)
    return phase, grid


class _NoBands(Exception):  # noqa: N818 - carries the note shown to the user
    pass


def _group_bands(
    source: _Source, ids: tuple[str, ...], grid: _Grid, end: datetime
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(bands_hz, lzeq (hours, bands), coverage (hours))`` of a group, combined per band
    energetically where every sensor has a spectrum for at least half the hour."""
    start = datetime.fromtimestamp(grid.start, UTC)
    bands_hz: FloatArray | None = None
    per_sensor, coverage = [], []
    for sensor_id in ids:
        found = source.bands(sensor_id, start, end)
        if len(found) == 0:
            raise _NoBands(f"sensor {sensor_id} has no spectra in this trial's periods")
        if bands_hz is None:
            bands_hz = found.bands_hz
        elif not np.array_equal(bands_hz, found.bands_hz):
            raise _NoBands(f"sensor {sensor_id} reports other bands than {ids[0]}")
        lz = np.full((grid.hours, found.bands_hz.size), np.nan)
        cov = np.zeros(grid.hours)
        i = grid.index(found.t)
        inside = (i >= 0) & (i < grid.hours)
        lz[i[inside]] = found.lzeq[inside]
        cov[i[inside]] = found.seconds[inside] / HOUR_S
        per_sensor.append(lz)
        coverage.append(cov)
    assert bands_hz is not None
    stack = np.stack(per_sensor)  # (sensors, hours, bands)
    cov = np.stack(coverage)
    ok = (cov >= MIN_HOUR_COVERAGE).all(axis=0) & ~np.isnan(stack).any(axis=(0, 2))
    combined = leq_along(stack, axis=0)
    combined[~ok] = np.nan
    return bands_hz, combined, np.where(ok, np.minimum(cov.min(axis=0), 1.0), 0.0)


def _band_phase(
    trial: Trial, source: _Source, grid: _Grid, end: datetime, selected: npt.NDArray[np.bool_]
) -> tuple[FloatArray, BandPhase]:
    hz_t, treated, cov_t = _group_bands(source, trial.treated, grid, end)
    hz_c, control, cov_c = _group_bands(source, trial.control, grid, end)
    if not np.array_equal(hz_t, hz_c):
        raise _NoBands("treated and control sensors report different bands")
    weight = np.where(selected, np.minimum(cov_t, cov_c), 0.0)
    return hz_t, BandPhase(treated, control, weight, grid.day)


def _bands(
    trial: Trial,
    source: _Source,
    phases: list[tuple[PhaseHours, _Grid, datetime]],
) -> tuple[list[BandEffect], str]:
    try:
        (hz_b, before), (hz_a, after) = (
            _band_phase(trial, source, grid, end, phase.selected) for phase, grid, end in phases
        )
    except _NoBands as exc:
        return [], f"No band effects: {exc}."
    except QueryError as exc:
        return [], f"No band effects: {exc}."
    if not np.array_equal(hz_b, hz_a):
        return [], "No band effects: the bands differ between the before and after periods."
    return band_effects(hz_b, before, after), (
        "BACI per third-octave band on hourly LZeq (unweighted), like the A-weighted effect."
    )


def evaluate(
    trial: Trial,
    store: ReadingStore,
    zone: ZoneInfo,
    corrections: Sequence[Correction] = (),
    validity: Mapping[str, SensorValidity] | None = None,
) -> TrialResult:
    """Evaluate ``trial`` from ``store``'s hourly levels (and spectra, when there are any),
    with the active ones of ``corrections`` (those overlapping the trial's sensors and
    periods, :meth:`CorrectionRepository.overlapping`) and the exclusion spans of each
    sensor's ``validity`` (weather, annotations) applied."""
    ranges = {k: list(v) for k, v in active_ranges(corrections).items()}
    flagged: list[Span] = []
    periods = [(trial.before_start, trial.before_end), (trial.after_start, trial.after_end)]
    for sensor_id, valid in (validity or {}).items():
        spans = [r for r in valid.ranges if r.cause != "correction"]
        if spans:
            ranges.setdefault(sensor_id, []).extend(spans)
        for lo, hi in periods:
            flagged.extend(valid.flags(lo.timestamp(), hi.timestamp()))
    source = _Source(store, zone, ranges)
    before, grid_b = _phase(trial, source, trial.before_start, trial.before_end)
    after, grid_a = _phase(trial, source, trial.after_start, trial.after_end)
    evaluation = evaluate_trial(before, after)
    bands, note = _bands(
        trial, source, [(before, grid_b, trial.before_end), (after, grid_a, trial.after_end)]
    )
    seconds = ExcludedRows.concat(source.excluded).seconds_by_cause()
    kept = any(v.weather == "include" for v in (validity or {}).values())
    return TrialResult(
        trial,
        evaluation,
        bands,
        note,
        tuple(corrections),
        tuple((cause, round(s, 3)) for cause, s in seconds.items()),
        tuple(flagged),
        "include" if kept else "exclude",
    )


_Key = tuple[
    str, datetime, str, tuple[tuple[int | None, bool], ...], tuple[tuple[str, int, int], ...]
]


class EvaluationCache:
    """Recent evaluations, so the endpoints a dashboard or a report reads together (evaluation,
    daily, summary, bands, report) compute once: keyed by trial id, its ``updated`` time, the
    zone and the corrections given (their ids and whether each is active, so a correction
    added or withdrawn is applied at once), kept ``ttl_s`` seconds of ``clock`` (data
    arriving meanwhile shows after that), at most ``max_entries`` (least recently used
    dropped). Thread-safe."""

    def __init__(self, ttl_s: float, clock: Callable[[], float], max_entries: int = 64) -> None:
        self._ttl_s, self._clock, self._max = ttl_s, clock, max_entries
        self._entries: OrderedDict[_Key, tuple[float, TrialResult]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        trial: Trial,
        store: ReadingStore,
        zone: ZoneInfo,
        corrections: Sequence[Correction] = (),
        validity: Mapping[str, SensorValidity] | None = None,
    ) -> TrialResult:
        """The cached evaluation of ``trial`` with ``corrections`` and ``validity`` if fresh,
        else a new one (then cached)."""
        spans = tuple(
            sorted((k, hash(v.ranges), hash(v.flagged)) for k, v in (validity or {}).items())
        )
        key = (
            trial.id,
            trial.updated,
            zone.key,
            tuple((c.id, c.active) for c in corrections),
            spans,
        )
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now < found[0]:
                self._entries.move_to_end(key)
                return found[1]
        result = evaluate(trial, store, zone, corrections, validity)
        with self._lock:
            self._entries[key] = (now + self._ttl_s, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return result
