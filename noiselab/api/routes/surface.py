"""The living map: ``/api/v1/map/surface`` (JSON), ``/api/v1/map/surface.png`` (the
georeferenced image) and ``/api/v1/map/estimate`` (the level at a point).

Public and the same for every caller: computed from public sensors only
(:mod:`noiselab.livemap`), rate-limited without a key like the other map data routes, with
ETags and ``Cache-Control``. A cached period is answered on the event loop; a stale one is
computed in a worker thread (once, whoever else asks meanwhile). Until the basic maps are
loaded after start-up the routes answer 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from noiselab.api.public_caller import answer_bytes, map_principal
from noiselab.api.schemas.surface import EstimateOut, SurfaceOut
from noiselab.api.surface_bodies import Encoded, SurfaceBodies, estimate_body
from noiselab.livemap.estimate import inside_map
from noiselab.livemap.service import NotReadyError, SurfaceService
from noiselab.livemap.update import SurfaceUpdate, token

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/map", tags=["map"])

IMMUTABLE_MAX_AGE_S = 86_400
"""``max-age`` of an image asked for with its current version token (the bytes of a token
never change)."""

Period = Annotated[
    Literal["now", "hour", "24h", "year"],
    Query(
        description="now: LAeq of the last 15 min; hour: LAeq of the last 60 min; 24h: LAeq "
        "of the last 24 h; year: Lden of the last 365 days (Danish periods and penalties)."
    ),
]
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)."},
    401: {"description": "A bad or revoked API key.", "content": _ERROR_JSON},
    422: {"description": "A bad parameter; `detail` says which.", "content": _ERROR_JSON},
    429: {
        "description": "Too many requests without a key from this address; see `Retry-After`.",
        "content": _ERROR_JSON,
    },
    503: {
        "description": "The map is still being prepared after start-up; see `Retry-After`.",
        "content": _ERROR_JSON,
    },
}
_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


def _service(request: Request) -> SurfaceService:
    service: SurfaceService = request.app.state.surface
    return service


def _unavailable(exc: NotReadyError) -> HTTPException:
    return HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after_s)})


async def _current(request: Request, period: str) -> tuple[SurfaceUpdate, Encoded]:
    """The period's update and its encoded answers: from the cache on the event loop, or
    computed in a worker thread."""
    service = _service(request)
    bodies: SurfaceBodies = request.app.state.surface_bodies
    hit = service.peek(period)
    found = None if hit is None else bodies.peek(hit)
    if hit is not None and found is not None:
        return hit, found

    def work() -> tuple[SurfaceUpdate, Encoded]:
        update = service.update(period)
        return update, bodies.get(service.context(), update)

    try:
        return await run_in_threadpool(work)
    except NotReadyError as exc:
        raise _unavailable(exc) from exc


@router.get(
    "/surface",
    summary="The modelled noise surface of a period",
    response_model=SurfaceOut,
    responses=_ERRORS,
    openapi_extra=_SECURITY,
)
async def get_surface(request: Request, period: Period = "now") -> Response:
    """The surface fitted to the public sensors for `period`: its image's URL and bounds, the
    colour bands, the gains per source group and the background, and the leave-one-sensor-out
    accuracy ("at the sensors the map is within X dB")."""
    principal = await map_principal(request)
    _, encoded = await _current(request, period)
    return answer_bytes(request, principal, encoded.json, encoded.json_etag, "application/json")


@router.get(
    "/surface.png",
    summary="The surface as a georeferenced PNG",
    response_class=Response,
    responses={
        200: {
            "description": "A palette PNG for a Leaflet imageOverlay with the surface's bounds.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        },
        **_ERRORS,
    },
    openapi_extra=_SECURITY,
)
async def get_surface_png(
    request: Request,
    period: Period = "now",
    layer: Annotated[
        Literal["bands", "guideline"],
        Query(
            description="bands: the 5-dB colour bands (transparent below 35 dB); guideline: "
            "'above the guideline value' shading (Lden above 58 dB where road traffic "
            "dominates, 64 dB where the railway does), period=year only."
        ),
    ] = "bands",
    v: Annotated[
        str | None, Query(max_length=32, description="Version token from the surface's JSON.")
    ] = None,
) -> Response:
    """The image of `period` in the END 5-dB colour bands, or its guideline shading; columns
    evenly spaced in longitude and rows in Web Mercator between the surface's `bounds`."""
    if layer == "guideline" and period != "year":
        raise HTTPException(
            422, "layer=guideline: the guideline values are yearly Lden; use period=year"
        )
    principal = await map_principal(request)
    _, encoded = await _current(request, period)
    if layer == "guideline":
        body, version = encoded.guideline or b"", encoded.guideline_token or ""
    else:
        body, version = encoded.png, encoded.png_token
    age = IMMUTABLE_MAX_AGE_S if v == version else None
    return answer_bytes(request, principal, body, f'"{version}"', "image/png", public_max_age_s=age)


@router.get(
    "/estimate",
    summary="The modelled level at a point",
    response_model=EstimateOut,
    responses=_ERRORS,
    openapi_extra=_SECURITY,
)
async def get_estimate(
    request: Request,
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, WGS84 degrees.")],
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, WGS84 degrees.")],
    period: Period = "now",
) -> Response:
    """The surface's level at (`lat`, `lon`) with its uncertainty (from the period's
    leave-one-out errors), the part of each source group and the background, the dominant
    source, for Lden the guideline value there, and the nearest public sensors. A point
    outside the map answers 422."""
    principal = await map_principal(request)
    update, _ = await _current(request, period)
    service = _service(request)
    ctx = service.context()
    if not inside_map(ctx, lon, lat):
        (south, west), (north, east) = ctx.raster.bounds
        raise HTTPException(
            422,
            f"lat={lat}, lon={lon} is outside the noise map: it covers latitudes "
            f"{south:.4f}..{north:.4f} and longitudes {west:.4f}..{east:.4f}",
        )
    found = await run_in_threadpool(service.estimate, update, lon, lat)
    body = estimate_body(update, found)
    return answer_bytes(request, principal, body, f'"{token(body)}"', "application/json")
