"""``/api/v1/reports/{period}``: the monthly (``2026-11``) or annual (``2026``) report of the
network or of one sensor, as HTML with inline charts, CSV or PDF (staff and admin keys).

The report is built from the stores on each request (:func:`noiselab.reports.build_report`;
a year of 12 sensors and the year before takes about a second, docs/benchmarks.md), charged
to the caller's read budget like the daily indicators of every sensor it covers, and run in the
heavy pool. The PDF is printed by headless Chromium on the API host (503 where it is not
installed). ``download=1`` adds ``Content-Disposition: attachment`` with a file name such as
``noiselab-report-2026-11-network.pdf``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from noiselab.api.access import GUARDED, Staff
from noiselab.api.cost import Cost, indicators_cost
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.params import MAX_ID, WeatherParam
from noiselab.api.read_gate import Offload, run_read
from noiselab.api.schemas.errors import ErrorOut
from noiselab.reports import (
    PdfUnavailable,
    ReportPeriod,
    build_report,
    html_to_pdf,
    parse_period,
    render_csv,
    render_html,
)
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore
from noiselab.validity import WeatherChoice
from noiselab.validity.daily import DailyPlan
from noiselab.validity.deployment import deployment_validity

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Format = Literal["html", "csv", "pdf"]
MEDIA = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get(
    "/{period}",
    summary="Monthly or annual report of the network or a sensor",
    response_class=Response,
    responses={
        **GUARDED,
        200: {
            "content": {"text/html": {}, "text/csv": {}, "application/pdf": {}},
            "description": "The report in the format asked for.",
        },
        404: {"model": ErrorOut, "description": "An unknown sensor."},
        422: {"model": ErrorOut, "description": "A bad period, or a read over the budget."},
        503: {
            "model": ErrorOut,
            "description": "Too many costly reads at once, or no Chromium for the PDF.",
        },
    },
)
async def get_report(
    period: str,
    *,
    request: Request,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    principal: Staff,
    sensor: Annotated[
        str | None,
        Query(max_length=MAX_ID, description="One sensor's report; default the whole network."),
    ] = None,
    format: Annotated[
        Format, Query(description="html (default, charts inline), csv or pdf.")
    ] = "html",
    weather: WeatherParam = "exclude",
    download: Annotated[
        bool, Query(description="1: send as an attachment (`Content-Disposition`).")
    ] = False,
) -> Response:
    """The report of ``period`` (``YYYY-MM`` or ``YYYY``): Lden, Lday, Levening, Lnight and
    LAeq,24h, days and hours above the guideline value, coverage and what was left out by
    cause, the comparison with a year before, the alerts and the citizens' reports."""
    try:
        chosen = parse_period(period)
    except ValueError as exc:
        raise HTTPException(422, f"period: {exc}") from exc
    count = 1 if sensor is not None else len(await run_in_threadpool(meta.sensors.ids))
    one = indicators_cost(chosen.first, chosen.last)
    cost = Cost(rows=one.rows * 2 * max(1, count), points=one.points * max(1, count))
    plan = DailyPlan(settings.tz, settings.day, settings.evening)
    now = datetime.fromtimestamp(settings.clock(), UTC)

    def work(_offload: Offload) -> bytes:
        return _render(store, meta, plan, chosen, sensor, weather, format, now)

    try:
        body = await run_read(request, principal, cost, store, work)
    except LookupError as exc:
        raise HTTPException(404, f"unknown sensor {sensor!r}") from exc
    except PdfUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    headers = {"Cache-Control": "private, no-store", "Vary": "Authorization"}
    if download:
        name = f"noiselab-report-{chosen.label}-{sensor or 'network'}.{format}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=MEDIA[format], headers=headers)


def _render(  # noqa: PLR0917 - one report's inputs, run in a worker thread
    store: ReadingStore,
    meta: MetadataStore,
    plan: DailyPlan,
    period: ReportPeriod,
    sensor: str | None,
    weather: WeatherChoice,
    form: Format,
    now: datetime,
) -> bytes:
    """The report built and rendered (blocking)."""
    validity = deployment_validity(meta, plan.zone, keep=True)
    report = build_report(
        store, meta, validity, period, plan, sensor_id=sensor, weather=weather, now=now
    )
    if form == "csv":
        return render_csv(report).encode("utf-8")
    page = render_html(report)
    return html_to_pdf(page) if form == "pdf" else page.encode("utf-8")
