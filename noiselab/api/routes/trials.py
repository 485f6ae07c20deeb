"""``/api/v1/trials``: vendor trials, their BACI evaluation, report and data export.

Access: staff and admin create, replace, delete and read every trial; a vendor key reads the
trials whose ``vendor`` is the key's ``name`` (and, through :mod:`noiselab.api.auth`, their
sensors); any other trial answers 404 like an unknown one. Without a key: 401. A vendor key on
a write: 403. Every answer is ``Cache-Control: private, no-store``.

The evaluation is computed on request from the store's hourly levels
(:mod:`noiselab.trials.evaluation`, :mod:`noiselab.analysis.trial`), with the active staff
corrections of the trial's sensors and periods applied and every overlapping correction cited
(read from the metadata database on each request, so one added or withdrawn shows at once);
``/daily``, ``/summary``
and ``/bands`` give it as flat rows for Grafana's Infinity data source
(:mod:`noiselab.api.trial_responses` builds the models); ``export.csv`` streams
:mod:`noiselab.api.trial_csv`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from noiselab.analysis.buckets import Every
from noiselab.api.access import Reader, Staff, cache_headers, unknown_trial, visible_trial
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep, ValidityDep
from noiselab.api.params import WeatherParam, parse_instant
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.trials import (
    BandEffectOut,
    DailyRowOut,
    EvaluationOut,
    SummaryRowOut,
    TrialIn,
    TrialOut,
)
from noiselab.api.trial_csv import csv_rows
from noiselab.api.trial_responses import (
    band_out,
    daily_row,
    evaluation_out,
    summary_row,
    trial_out,
)
from noiselab.model import rfc3339, utcnow
from noiselab.store.metadata import Trial, TrialRepository, UnknownSensors, new_trial_id
from noiselab.trials.evaluation import EvaluationCache, TrialResult
from noiselab.trials.report import render_report

__all__ = ["MAX_EXPORT_SPAN", "MAX_EXPORT_SPAN_1S", "router"]

router = APIRouter(prefix="/api/v1/trials", tags=["trials"])

MAX_EXPORT_SPAN_1S = timedelta(days=1)
"""Longest range ``export.csv`` serves at ``every=1s`` (86,400 rows per sensor)."""
MAX_EXPORT_SPAN = timedelta(days=800)
"""Longest range ``export.csv`` serves at any ``every`` (two maximal periods and a gap)."""
EVALUATION_CACHE_S = 60.0
"""How long an evaluation is reused by the trial's endpoints (s)."""

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
    return meta.trials


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


def evaluated_trial(
    trial_id: str,
    *,
    trials: TrialsDep,
    meta: MetaDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: Reader,
    evaluations: EvaluationsDep,
    validity: ValidityDep,
    weather: WeatherParam = "exclude",
) -> TrialResult:
    """The (cached) evaluation of the trial in the path, if the caller may see the trial,
    with the corrections overlapping its sensors and periods and each sensor's validity
    (weather left out unless ``weather=include``)."""
    trial = visible_trial(trials, trial_id, principal)
    periods = [(trial.before_start, trial.before_end), (trial.after_start, trial.after_end)]
    corrections = meta.corrections.overlapping(trial.sensors, periods)
    valid = {sensor_id: validity.get(sensor_id, weather) for sensor_id in trial.sensors}
    return evaluations.get(trial, store, settings.tz, corrections, valid)


Evaluated = Annotated[TrialResult, Depends(evaluated_trial)]


# --------------------------------------------------------------------------- CRUD


@router.get("", summary="List trials", responses=_AUTH)
def list_trials(response: Response, trials: TrialsDep, principal: Reader) -> list[TrialOut]:
    """The trials the caller may see, newest first: a vendor its own, staff and admin all."""
    cache_headers(response, principal, settled=False)
    vendor = None if principal.sees_all else principal.name
    return [trial_out(trial) for trial in trials.all(vendor=vendor)]


@router.post("", summary="Create a trial", status_code=201, responses=_WRITE)
def create_trial(
    body: TrialIn, response: Response, trials: TrialsDep, principal: Staff
) -> TrialOut:
    """Create a trial (staff, admin). Its id is generated."""
    cache_headers(response, principal, settled=False)
    trial = _trial_from(body, new_trial_id(), utcnow())
    try:
        trials.create(trial)
    except UnknownSensors as exc:
        raise HTTPException(422, str(exc)) from exc
    response.headers["Location"] = f"{router.prefix}/{trial.id}"
    return trial_out(trial)


@router.get("/{trial_id}", summary="One trial", responses=_READ)
def get_trial(trial_id: str, response: Response, trials: TrialsDep, principal: Reader) -> TrialOut:
    """One trial the caller may see."""
    cache_headers(response, principal, settled=False)
    return trial_out(visible_trial(trials, trial_id, principal))


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
    principal: Staff,
) -> TrialOut:
    """Replace every field of a trial (staff, admin); ``created`` is kept."""
    cache_headers(response, principal, settled=False)
    old = visible_trial(trials, trial_id, principal)
    try:
        stored = trials.replace(_trial_from(body, trial_id, old.created))
    except UnknownSensors as exc:
        raise HTTPException(422, str(exc)) from exc
    if stored is None:  # deleted meanwhile
        raise unknown_trial(trial_id)
    return trial_out(stored)


@router.delete(
    "/{trial_id}",
    summary="Delete a trial",
    status_code=204,
    responses={**_AUTH, 403: _WRITE[403], 404: {"model": ErrorOut, "description": "Unknown."}},
)
def delete_trial(trial_id: str, trials: TrialsDep, principal: Staff) -> Response:
    """Delete a trial (staff, admin). Its sensors and their data stay."""
    if not trials.delete(trial_id):
        raise unknown_trial(trial_id)
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
    return [daily_row(day, settings.tz) for day in result.evaluation.daily]


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
    return [band_out(band) for band in result.bands]


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
    rows = csv_rows(store, trial, first=first, last=last, every=every, zone=settings.tz)
    headers = {
        "Content-Disposition": f'attachment; filename="{_filename(trial)}-{every.value}.csv"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)


# --------------------------------------------------------------------------- helpers


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
            updated=utcnow(),
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def _filename(trial: Trial) -> str:
    """A safe file name stem: ``trial-<id>-<name as a-z0-9->``."""
    slug = re.sub(r"[^a-z0-9]+", "-", trial.name.lower()).strip("-")[:60]
    return f"trial-{trial.id}-{slug}" if slug else f"trial-{trial.id}"
