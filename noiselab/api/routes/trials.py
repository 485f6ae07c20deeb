"""``/api/v1/trials``: vendor trials, their BACI evaluation, report and data export.

Access: staff and admin create, replace, delete and read every trial; a vendor key reads the
trials whose ``vendor`` is the key's ``name`` (and, through :mod:`noiselab.api.auth`, their
sensors); any other trial answers 404 like an unknown one. Without a key: 401. A vendor key on
a write: 403. Every answer is ``Cache-Control: private, no-store``.

The evaluation is computed on request from the store's hourly levels
(:mod:`noiselab.api.trial_eval`, :mod:`noiselab.analysis.trial`); ``/daily``, ``/summary``
and ``/bands`` give it as flat rows for Grafana's Infinity data source.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from noiselab.analysis.buckets import Every
from noiselab.analysis.trial import (
    MIN_DAY_FRACTION,
    MIN_DAYS,
    MIN_HOUR_COVERAGE,
    MIN_PHASE_COVERAGE,
    BandEffect,
    DayValues,
    PhaseSummary,
)
from noiselab.api.auth import Principal, require_role
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.report import render_report
from noiselab.api.routes.sensors import cache_headers, parse_instant, rfc3339
from noiselab.api.schemas import ErrorOut
from noiselab.api.settings import ApiSettings
from noiselab.api.trial_eval import EvaluationCache, TrialResult, day_date
from noiselab.api.trial_schemas import (
    BandEffectOut,
    DailyRowOut,
    EffectOut,
    EvaluationOut,
    PhaseOut,
    SummaryRowOut,
    ThresholdsOut,
    TrialIn,
    TrialOut,
    VerdictOut,
)
from noiselab.store.base import LevelPoint, ReadingStore
from noiselab.store.metadata import Trial, TrialRepository, UnknownSensors, new_trial_id

__all__ = ["MAX_EXPORT_SPAN", "MAX_EXPORT_SPAN_1S", "router"]

router = APIRouter(prefix="/api/v1/trials", tags=["trials"])

MAX_EXPORT_SPAN_1S = timedelta(days=1)
"""Longest range ``export.csv`` serves at ``every=1s`` (86,400 rows per sensor)."""
MAX_EXPORT_SPAN = timedelta(days=800)
"""Longest range ``export.csv`` serves at any ``every`` (two maximal periods and a gap)."""
EVALUATION_CACHE_S = 60.0
"""How long an evaluation is reused by the trial's endpoints (s)."""
_CHUNK_BUCKETS = 50_000  # buckets per store query while streaming an export
_CSV_COLUMNS = ("sensor_id", "role", "t", "laeq", "lafmax", "l10", "l50", "l90", "coverage")

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No API key, or a bad or revoked one."},
    403: {"model": ErrorOut, "description": "A sensor key, which may only push readings."},
}
_READ: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    404: {"model": ErrorOut, "description": "Unknown trial, or one the caller may not see."},
    422: {"model": ErrorOut, "description": "A bad request."},
}
_WRITE: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    403: {"model": ErrorOut, "description": "Only staff and admin keys manage trials."},
    422: {
        "model": ErrorOut,
        "description": "An invalid trial: unknown or overlapping sensors, bad periods or hours.",
    },
}
_EVAL: dict[int | str, dict[str, Any]] = {
    **_READ,
    400: {"model": ErrorOut, "description": "The store cannot answer for this range."},
    503: {"model": ErrorOut, "description": "A database is unavailable; retry later."},
}


def get_trials(meta: MetaDep) -> TrialRepository:
    """The trial repository over the app's metadata database (cheap to construct)."""
    return TrialRepository(meta)


def get_evaluations(request: Request, settings: SettingsDep) -> EvaluationCache:
    """The app's cache of recent evaluations, created on first use."""
    state = request.app.state
    cache: EvaluationCache | None = getattr(state, "trial_evaluations", None)
    if cache is None:
        cache = EvaluationCache(EVALUATION_CACHE_S, settings.clock)
        state.trial_evaluations = cache
    return cache


TrialsDep = Annotated[TrialRepository, Depends(get_trials)]
EvaluationsDep = Annotated[EvaluationCache, Depends(get_evaluations)]
StaffOrAdmin = Annotated[Principal, Depends(require_role("staff", "admin"))]
Reader = Annotated[Principal, Depends(require_role("vendor", "staff", "admin"))]
"""Trials are read by vendors (their own), staff and admin; sensor keys only push data."""


def evaluated_trial(
    trial_id: str,
    *,
    trials: TrialsDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: Reader,
    evaluations: EvaluationsDep,
) -> TrialResult:
    """The (cached) evaluation of the trial in the path, if the caller may see the trial."""
    return evaluations.get(visible_trial(trials, trial_id, principal), store, settings.tz)


Evaluated = Annotated[TrialResult, Depends(evaluated_trial)]


# --------------------------------------------------------------------------- CRUD


@router.get("", summary="List trials", responses=_AUTH)
def list_trials(response: Response, trials: TrialsDep, principal: Reader) -> list[TrialOut]:
    """The trials the caller may see, newest first: a vendor its own, staff and admin all."""
    cache_headers(response, principal, settled=False)
    vendor = None if principal.sees_all else principal.name
    return [_trial_out(trial) for trial in trials.all(vendor=vendor)]


@router.post("", summary="Create a trial", status_code=201, responses=_WRITE)
def create_trial(
    body: TrialIn, response: Response, trials: TrialsDep, principal: StaffOrAdmin
) -> TrialOut:
    """Create a trial (staff, admin). Its id is generated."""
    cache_headers(response, principal, settled=False)
    trial = _trial_from(body, new_trial_id(), datetime.now(UTC))
    try:
        trials.create(trial)
    except UnknownSensors as exc:
        raise HTTPException(422, str(exc)) from exc
    response.headers["Location"] = f"{router.prefix}/{trial.id}"
    return _trial_out(trial)


@router.get("/{trial_id}", summary="One trial", responses=_READ)
def get_trial(trial_id: str, response: Response, trials: TrialsDep, principal: Reader) -> TrialOut:
    """One trial the caller may see."""
    cache_headers(response, principal, settled=False)
    return _trial_out(visible_trial(trials, trial_id, principal))


@router.put(
    "/{trial_id}",
    summary="Replace a trial",
    responses={**_WRITE, 404: {"model": ErrorOut, "description": "Unknown trial."}},
)
def replace_trial(
    trial_id: str,
    body: TrialIn,
    response: Response,
    trials: TrialsDep,
    principal: StaffOrAdmin,
) -> TrialOut:
    """Replace every field of a trial (staff, admin); ``created`` is kept."""
    cache_headers(response, principal, settled=False)
    old = visible_trial(trials, trial_id, principal)
    try:
        stored = trials.replace(_trial_from(body, trial_id, old.created))
    except UnknownSensors as exc:
        raise HTTPException(422, str(exc)) from exc
    if stored is None:  # deleted meanwhile
        raise _not_found(trial_id)
    return _trial_out(stored)


@router.delete(
    "/{trial_id}",
    summary="Delete a trial",
    status_code=204,
    responses={**_AUTH, 403: _WRITE[403], 404: {"model": ErrorOut, "description": "Unknown."}},
)
def delete_trial(trial_id: str, trials: TrialsDep, principal: StaffOrAdmin) -> Response:
    """Delete a trial (staff, admin). Its sensors and their data stay."""
    if not trials.delete(trial_id):
        raise _not_found(trial_id)
    return Response(status_code=204, headers={"Cache-Control": "private, no-store"})


# --------------------------------------------------------------------------- evaluation


@router.get("/{trial_id}/evaluation", summary="BACI evaluation of a trial", responses=_EVAL)
def get_evaluation(
    trial_id: str,
    *,
    response: Response,
    settings: SettingsDep,
    principal: Reader,
    result: Evaluated,
) -> EvaluationOut:
    """The BACI effect (dB) with its 95 % interval, per-period levels of treated and control,
    daily values, per-band effects when spectra exist, coverage and a plain-language verdict
    (which says when the data are insufficient)."""
    cache_headers(response, principal, settled=False)
    return evaluation_out(result, settings.tz.key)


@router.get("/{trial_id}/daily", summary="Daily values (flat rows)", responses=_EVAL)
def get_daily(
    trial_id: str,
    *,
    response: Response,
    settings: SettingsDep,
    principal: Reader,
    result: Evaluated,
) -> list[DailyRowOut]:
    """One row per local date and period: treated, control and their difference (dB)."""
    cache_headers(response, principal, settled=False)
    return [_daily_row(day, settings.tz) for day in result.evaluation.daily]


@router.get("/{trial_id}/summary", summary="The evaluation as one flat row", responses=_EVAL)
def get_summary(
    trial_id: str, *, response: Response, principal: Reader, result: Evaluated
) -> list[SummaryRowOut]:
    """A one-row array: effect, interval, period levels, coverage and the verdict."""
    cache_headers(response, principal, settled=False)
    return [summary_row(result)]


@router.get("/{trial_id}/bands", summary="Per-band effects (flat rows)", responses=_EVAL)
def get_bands(
    trial_id: str, *, response: Response, principal: Reader, result: Evaluated
) -> list[BandEffectOut]:
    """One row per third-octave band; empty when the sensors sent no spectra."""
    cache_headers(response, principal, settled=False)
    return [_band_out(band) for band in result.bands]


@router.get(
    "/{trial_id}/report",
    summary="Self-contained HTML report",
    response_class=HTMLResponse,
    responses={**_EVAL, 200: {"content": {"text/html": {}}, "description": "The report."}},
)
def get_report(
    trial_id: str,
    *,
    settings: SettingsDep,
    result: Evaluated,
    download: Annotated[
        bool, Query(description="1: send as an attachment (`Content-Disposition`).")
    ] = False,
) -> HTMLResponse:
    """An HTML page with inline charts and styles, no scripts or external resources: treated
    vs control per day, daily differences, the effect with its interval, method and caveats."""
    generated = datetime.fromtimestamp(settings.clock(), UTC)
    page = render_report(result, zone=settings.tz, generated=generated)
    headers = {"Cache-Control": "private, no-store", "Vary": "Authorization"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{_filename(result.trial)}.html"'
    return HTMLResponse(page, headers=headers)


# --------------------------------------------------------------------------- export


@router.get(
    "/{trial_id}/export.csv",
    summary="CSV of the trial's sensors' levels",
    response_class=StreamingResponse,
    responses={
        **_READ,
        200: {"content": {"text/csv": {}}, "description": "One row per sensor and bucket."},
        400: {"model": ErrorOut, "description": "A range too long (1s: 1 day; else 800)."},
    },
)
def export_csv(
    trial_id: str,
    *,
    trials: TrialsDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: Reader,
    every: Annotated[Every, Query(description="Bucket width; 1d at local midnight.")] = Every.H1,
    start: Annotated[
        str | None,
        Query(description="RFC 3339, a date or epoch ms; default the start of before."),
    ] = None,
    end: Annotated[
        str | None, Query(description="Like start, exclusive; default the end of after.")
    ] = None,
) -> StreamingResponse:
    """Columns ``sensor_id, role, t, laeq, lafmax, l10, l50, l90, coverage`` (dB to 0.01,
    RFC 3339 UTC bucket starts), treated sensors first, buckets without data omitted. At
    ``every=1s`` the range may span at most one day."""
    trial = visible_trial(trials, trial_id, principal)
    first = parse_instant("start", start, settings.tz) if start else trial.before_start
    last = parse_instant("end", end, settings.tz) if end else trial.after_end
    if first >= last:
        raise HTTPException(422, f"start: must be before end ({rfc3339(first)} >= {rfc3339(last)})")
    if last - first > MAX_EXPORT_SPAN:
        raise HTTPException(400, f"export at most {MAX_EXPORT_SPAN.days} days at a time")
    if every is Every.S1 and last - first > MAX_EXPORT_SPAN_1S:
        raise HTTPException(
            400, "every=1s exports at most one day: narrow start and end, or choose 1m or coarser"
        )
    rows = _csv_rows(store, trial, first=first, last=last, every=every, settings=settings)
    headers = {
        "Content-Disposition": f'attachment; filename="{_filename(trial)}-{every.value}.csv"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)


def _csv_rows(
    store: ReadingStore,
    trial: Trial,
    *,
    first: datetime,
    last: datetime,
    every: Every,
    settings: ApiSettings,
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    roles = [(sid, "treated") for sid in trial.treated] + [
        (sid, "control") for sid in trial.control
    ]
    for sensor_id, role in roles:
        for lo, hi in _chunks(first, last, every):
            for point in store.levels(sensor_id, lo, hi, every, settings.tz):
                writer.writerow(_csv_row(sensor_id, role, point))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _chunks(first: datetime, last: datetime, every: Every) -> Iterator[tuple[datetime, datetime]]:
    """``[first, last)`` cut at multiples of ``_CHUNK_BUCKETS`` buckets (epoch-aligned, so no
    bucket is split); ``1d`` in one piece (at most 732 days)."""
    if every.seconds is None:
        yield first, last
        return
    width = every.seconds * _CHUNK_BUCKETS
    lo = first
    while lo < last:
        boundary = (lo.timestamp() // width + 1) * width
        hi = min(last, datetime.fromtimestamp(boundary, UTC))
        yield lo, hi
        lo = hi


def _blank(level: float | None) -> object:
    """A level to 0.01 dB for the CSV; an empty field when there is none."""
    return "" if level is None else round(level, 2)


def _csv_row(sensor_id: str, role: str, point: LevelPoint) -> list[object]:
    return [
        sensor_id,
        role,
        rfc3339(point.t),
        round(point.laeq, 2),
        "" if point.lafmax is None else round(point.lafmax, 2),
        _blank(point.l10),
        _blank(point.l50),
        _blank(point.l90),
        round(point.coverage, 4),
    ]


# --------------------------------------------------------------------------- helpers


def visible_trial(trials: TrialRepository, trial_id: str, principal: Principal) -> Trial:
    """The trial if ``principal`` may see it, else a 404 that reads as for an unknown one."""
    trial = trials.get(trial_id)
    if trial is None or not principal.sees_trial(trial):
        raise _not_found(trial_id)
    return trial


def _not_found(trial_id: str) -> HTTPException:
    shown = trial_id if len(trial_id) <= 40 else trial_id[:40] + "..."
    return HTTPException(404, f"unknown trial {shown!r}")


def _trial_from(body: TrialIn, trial_id: str, created: datetime) -> Trial:
    """A validated :class:`Trial` from the request body; a bad one is a 422 naming why."""
    try:
        return Trial(
            id=trial_id,
            name=body.name.strip(),
            vendor=body.vendor.strip(),
            description=body.description,
            treated=tuple(body.treated),
            control=tuple(body.control),
            before_start=body.before_start.astimezone(UTC),
            before_end=body.before_end.astimezone(UTC),
            after_start=body.after_start.astimezone(UTC),
            after_end=body.after_end.astimezone(UTC),
            hours=tuple(body.hours),
            created=created,
            updated=datetime.now(UTC),
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def _trial_out(trial: Trial) -> TrialOut:
    return TrialOut(
        id=trial.id,
        name=trial.name,
        vendor=trial.vendor,
        description=trial.description,
        treated=list(trial.treated),
        control=list(trial.control),
        before_start=trial.before_start,
        before_end=trial.before_end,
        after_start=trial.after_start,
        after_end=trial.after_end,
        hours=list(trial.hours),
        created=trial.created,
        updated=trial.updated,
    )


def _filename(trial: Trial) -> str:
    """A safe file name stem: ``trial-<id>-<name as a-z0-9->``."""
    slug = re.sub(r"[^a-z0-9]+", "-", trial.name.lower()).strip("-")[:60]
    return f"trial-{trial.id}-{slug}" if slug else f"trial-{trial.id}"


def _db(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _daily_row(day: DayValues, zone: ZoneInfo | str) -> DailyRowOut:
    date = day_date(day.day)
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return DailyRowOut(
        t=datetime(date.year, date.month, date.day, tzinfo=tz).astimezone(UTC),
        date=date.isoformat(),
        phase=day.phase,
        treated_db=_db(day.treated_db),
        control_db=_db(day.control_db),
        difference_db=_db(day.difference_db),
        matched_hours=day.matched_hours,
        selected_hours=day.selected_hours,
    )


def _band_out(band: BandEffect) -> BandEffectOut:
    return BandEffectOut(
        band_hz=band.band_hz,
        effect_db=_db(band.effect_db),
        ci_low_db=_db(band.ci_low),
        ci_high_db=_db(band.ci_high),
        days_before=band.days_before,
        days_after=band.days_after,
    )


def _phase_out(phase: PhaseSummary, start: datetime, end: datetime) -> PhaseOut:
    return PhaseOut(
        start=start,
        end=end,
        treated_db=_db(phase.treated_db),
        control_db=_db(phase.control_db),
        difference_db=_db(phase.difference_db),
        matched_hours=phase.matched_hours,
        selected_hours=phase.selected_hours,
        coverage=round(phase.coverage, 4),
        complete_days=phase.complete_days,
        days_with_data=phase.days_with_data,
    )


def evaluation_out(result: TrialResult, zone: str) -> EvaluationOut:
    """The JSON model of an evaluation (dB to 0.01, coverage to 0.0001)."""
    trial, ev, r = result.trial, result.evaluation, result.evaluation.baci
    effect = None
    if r is not None:
        effect = EffectOut(
            effect_db=round(r.effect_db, 2),
            reduction_db=round(r.reduction_db, 2),
            ci_low_db=round(r.ci_low, 2),
            ci_high_db=round(r.ci_high, 2),
            confidence=r.confidence,
            n_boot=r.n_boot,
            delta_before_db=round(r.delta_before, 2),
            delta_after_db=round(r.delta_after, 2),
            days_before=r.days_before,
            days_after=r.days_after,
        )
    return EvaluationOut(
        trial_id=trial.id,
        zone=zone,
        hours=list(trial.hours),
        effect=effect,
        before=_phase_out(ev.before, trial.before_start, trial.before_end),
        after=_phase_out(ev.after, trial.after_start, trial.after_end),
        verdict=VerdictOut(status=ev.verdict.status, text=ev.verdict.text),
        thresholds=ThresholdsOut(
            min_hour_coverage=MIN_HOUR_COVERAGE,
            min_day_fraction=MIN_DAY_FRACTION,
            min_days=MIN_DAYS,
            min_phase_coverage=MIN_PHASE_COVERAGE,
        ),
        daily=[_daily_row(day, zone) for day in ev.daily],
        bands=[_band_out(band) for band in result.bands],
        bands_note=result.bands_note,
        method=METHOD if r is None else f"{METHOD} {r.method}.",
    )


METHOD = (
    "Hourly LAeq,1h per sensor from the store; several treated (or control) sensors combined "
    "per hour as the energetic mean of the sensors, in hours every sensor of the group "
    "measured at least half of; matched hours (treated and control both present, in the "
    "selected local hours of day) weighted by the smaller coverage."
)


def summary_row(result: TrialResult) -> SummaryRowOut:
    """The evaluation as one flat row."""
    trial, ev, r = result.trial, result.evaluation, result.evaluation.baci
    return SummaryRowOut(
        trial_id=trial.id,
        name=trial.name,
        vendor=trial.vendor,
        status=ev.verdict.status,
        effect_db=None if r is None else round(r.effect_db, 2),
        reduction_db=None if r is None else round(r.reduction_db, 2),
        ci_low_db=None if r is None else round(r.ci_low, 2),
        ci_high_db=None if r is None else round(r.ci_high, 2),
        treated_before_db=_db(ev.before.treated_db),
        control_before_db=_db(ev.before.control_db),
        treated_after_db=_db(ev.after.treated_db),
        control_after_db=_db(ev.after.control_db),
        coverage_before=round(ev.before.coverage, 4),
        coverage_after=round(ev.after.coverage, 4),
        complete_days_before=ev.before.complete_days,
        complete_days_after=ev.after.complete_days,
        verdict=ev.verdict.text,
    )
