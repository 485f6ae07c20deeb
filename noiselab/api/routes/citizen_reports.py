"""``/api/v1/citizen-reports``: citizens' noise reports, filed by anyone, reviewed by staff.

Filing (``POST``) needs no key: the public map sends "it is loud here now" with the time, the
place picked on the map, a category and an optional text (:mod:`noiselab.citizens.intake`
decides what is accepted; 422 names the field otherwise). No personal data is asked for or
stored, the sender's address included: the limit of :mod:`noiselab.api.report_limit` (5
reports per address per 10 minutes by default, 429 with ``Retry-After`` beyond) keys its
buckets by a hash held in memory only. The body may be at most ``Limits.citizen_body_bytes``
(8 KiB; 413 beyond). The answer is the new report's id, nothing else. A request without a key
also takes a token from the public rate limit like every public endpoint; a presented key
must be valid (401).

Reading and handling need a staff or admin key: each report comes with the public sensors
within 2 km and the LAeq they measured over the 15 minutes around its time
(:mod:`noiselab.citizens.nearby`); a report is marked handled once, with a note (a second time
answers 409). Who handled it is the key's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from noiselab.analysis.decibels import round_db_or_none
from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.auth import OptionalPrincipal
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.params import MAX_ID, RowId, parse_instant
from noiselab.api.ratelimit import client_address
from noiselab.api.report_limit import ReportLimiter, too_many_reports
from noiselab.api.schemas.citizen_reports import (
    CitizenReportIn,
    CitizenReportOut,
    FiledOut,
    HandleIn,
    NearbySensorOut,
)
from noiselab.api.schemas.errors import ErrorOut
from noiselab.citizens.intake import IntakeError, accept
from noiselab.citizens.nearby import NearbySensor, nearby
from noiselab.model import Sensor, utc
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import AlreadyHandled, CitizenReport, ReportState

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/citizen-reports", tags=["citizen reports"])

MAX_PAGE = 1000
"""Most reports one list request answers."""
_BAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."}
}
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such report."}
}
_FILING: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "A key was presented and is bad or revoked."},
    413: {"model": ErrorOut, "description": "A body over 8 KiB."},
    429: {
        "model": ErrorOut,
        "description": "Too many reports (or requests without a key) from this address; see "
        "`Retry-After`.",
    },
}


def _limiter(request: Request) -> ReportLimiter:
    """The app's report limiter (made on first use from its settings)."""
    state = request.app.state
    found: ReportLimiter | None = getattr(state, "report_limiter", None)
    if found is None:
        settings = state.settings
        found = ReportLimiter(
            settings.citizen_report_burst, settings.citizen_report_window_s, settings.clock
        )
        state.report_limiter = found
    return found


async def _within_limit(request: Request, settings: SettingsDep) -> None:
    """Count the report against its address: 429 once the address has filed its burst."""
    wait = _limiter(request).take(client_address(request, settings.trusted_proxies))
    if wait is not None:
        raise too_many_reports(wait)


WithinLimit = Annotated[None, Depends(_within_limit)]
"""Solved before the body is validated: a refused report is counted too."""


def _out(report: CitizenReport, near: Sequence[NearbySensor]) -> CitizenReportOut:
    first = near[0] if near else None
    return CitizenReportOut(
        id=report.id or 0,
        ts=report.ts,
        received_at=report.received_at,
        lat=report.lat,
        lon=report.lon,
        category=report.category,
        text=report.text,
        status=report.status,
        handled_at=report.handled_at,
        handled_by=report.handled_by,
        handling_note=report.handling_note,
        nearby=[
            NearbySensorOut(
                sensor_id=n.sensor_id,
                name=n.name,
                source=n.source,
                distance_m=round(n.distance_m),
                laeq=round_db_or_none(n.laeq),
                coverage=round(n.coverage, 4),
            )
            for n in near
        ],
        nearest_sensor_id=None if first is None else first.sensor_id,
        nearest_distance_m=None if first is None else round(first.distance_m),
        nearest_laeq=None if first is None else round_db_or_none(first.laeq),
    )


def _reviewed(
    store: ReadingStore, sensors: Sequence[Sensor], report: CitizenReport
) -> CitizenReportOut:
    return _out(report, nearby(store, sensors, report.lat, report.lon, report.ts))


@router.post(
    "",
    summary="Report noise here and now (no key)",
    status_code=201,
    responses={**_FILING, **_BAD},
)
def file_report(
    _principal: OptionalPrincipal,
    _counted: WithinLimit,
    body: CitizenReportIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
) -> FiledOut:
    """File a citizen's report: when it was loud (default now), the place, what is loud and
    optional words. Nothing else is stored: no name, no contact, no address. Answers the new
    report's id."""
    no_store(response)
    try:
        report = accept(
            ts=body.ts,
            lat=body.lat,
            lon=body.lon,
            category=body.category,
            text=body.text,
            received_at=utc(settings.clock()),
        )
    except IntakeError as exc:
        raise HTTPException(422, str(exc)) from exc
    stored = meta.citizen_reports.add(report)
    return FiledOut(id=stored.id or 0)


@router.get(
    "",
    summary="Citizens' reports with the levels measured nearby",
    responses={**GUARDED, **_BAD},
)
def list_reports(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    response: Response,
    meta: MetaDep,
    store: StoreDep,
    settings: SettingsDep,
    _staff: Staff,
    start: Annotated[
        str | None,
        Query(
            description="Reports loud at or after this: RFC 3339 with offset, a date (local "
            "midnight) or epoch milliseconds."
        ),
    ] = None,
    end: Annotated[str | None, Query(description="Reports loud before this; like start.")] = None,
    status: Annotated[ReportState | None, Query(description="new or handled.")] = None,
    after_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Next page: the last id of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[CitizenReportOut]:
    """Reports in the order they arrived, each with the public sensors within 2 km and the
    LAeq they measured over the 15 minutes around its time. A full page carries the next
    page's ``after_id`` in ``X-Next-After-Id``."""
    no_store(response)
    first = parse_instant("start", start, settings.tz) if start else None
    last = parse_instant("end", end, settings.tz) if end else None
    if first is not None and last is not None and first >= last:
        raise HTTPException(422, "start: must be before end")
    found = meta.citizen_reports.find(
        start=first, end=last, status=status, after_id=after_id, limit=limit
    )
    if len(found) == limit:
        response.headers["X-Next-After-Id"] = str(found[-1].id)
    sensors = meta.sensors.all() if found else []
    return [_reviewed(store, sensors, report) for report in found]


@router.get(
    "/{report_id}",
    summary="One citizen's report with the levels measured nearby",
    responses={**GUARDED, **_UNKNOWN, **_BAD},
)
def get_report(
    report_id: RowId, response: Response, meta: MetaDep, store: StoreDep, _staff: Staff
) -> CitizenReportOut:
    """One report, with its nearest public sensors and their levels, and its handling."""
    no_store(response)
    found = meta.citizen_reports.get(report_id)
    if found is None:
        raise HTTPException(404, f"unknown report {report_id}")
    return _reviewed(store, meta.sensors.all(), found)


@router.post(
    "/{report_id}/handle",
    summary="Mark a citizen's report handled",
    responses={
        **GUARDED,
        **_UNKNOWN,
        **_BAD,
        409: {"model": ErrorOut, "description": "It was handled before."},
    },
)
def handle_report(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    report_id: RowId,
    body: HandleIn,
    response: Response,
    meta: MetaDep,
    store: StoreDep,
    settings: SettingsDep,
    staff: Staff,
) -> CitizenReportOut:
    """Mark a report handled, with a note; who did it is the key's name."""
    no_store(response)
    try:
        found = meta.citizen_reports.handle(
            report_id, by=staff.name, note=body.note.strip(), when=utc(settings.clock())
        )
    except AlreadyHandled as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if found is None:
        raise HTTPException(404, f"unknown report {report_id}")
    return _reviewed(store, meta.sensors.all(), found)
