"""The public noise map: ``/api/v1/map`` (GeoJSON), its flat rows, configuration and bundled
roads/railway, the page at ``/`` and ``/map``, and the page's static files under ``/static``.

The map is computed at most once per ``ApiSettings.map_cache_s`` seconds for each visibility
(the public; staff and admin; each vendor's set of sensors) by one caller, while concurrent
callers get the previous value (or, the first time, wait for that one computation), and kept as
encoded bytes with an ETag (:func:`map_cache`, a :class:`~noiselab.api.ttl_cache.TtlCache`).
A cache hit costs no database query and, for a public caller, no key check: the route is
``async``, resolves the caller itself (:func:`map_principal`), and only a miss or a presented
key goes to a worker thread. The public sees public sensors, a vendor key also its own, staff
and admin all (:func:`noiselab.api.access.visible`).

The data routes are rate-limited for callers without a key like every public endpoint; the
page and its static files are not (they are the same bytes for everybody, cacheable).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from noiselab.analysis.guidelines import STRONGLY_AFFECTED_LDEN_DB, lden_guideline_values
from noiselab.api.access import cache_headers, visible
from noiselab.api.auth import Principal
from noiselab.api.map_bands import BANDS, NO_DATA_COLOUR
from noiselab.api.map_features import MapSnapshot, build_snapshot
from noiselab.api.public_caller import answer_bytes, map_principal
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.map import MapConfigOut, MapOut, MapRowOut
from noiselab.api.settings import ApiSettings
from noiselab.api.ttl_cache import TtlCache
from noiselab.citizens.intake import VALLENSBAEK
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = ["DATA_DIR", "STATIC_DIR", "GeoJSONResponse", "map_cache", "map_principal", "router"]

router = APIRouter(prefix="", tags=["map"])

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""The page's files (HTML, CSS, JS, and Leaflet under ``vendor/leaflet``)."""
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""Bundled GeoJSON (the schematic roads and railway)."""
CENTRE = (55.636, 12.375)
"""Start view: Vallensbæk, between Holbækmotorvejen and Køge Bugt Motorvejen (lat, lon)."""
ZOOM = 13
GEOJSON = "application/geo+json"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".geojson": GEOJSON,
    ".png": "image/png",
    ".svg": "image/svg+xml",
    "": "text/plain; charset=utf-8",  # LICENSE
}
_VENDOR_MAX_AGE = 86_400
_PAGE_MAX_AGE = 300
_CSP = (
    "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
"""Errors are JSON even where the route answers GeoJSON (``model=`` would take its type)."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "A bad or revoked API key.", "content": _ERROR_JSON},
    429: {
        "description": "Too many requests without a key from this address; see `Retry-After`.",
        "content": _ERROR_JSON,
    },
}
_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
"""The optional bearer key, as ``OptionalPrincipal`` routes show it in OpenAPI."""
_cache_lock = threading.Lock()


class GeoJSONResponse(JSONResponse):
    """A GeoJSON body (RFC 7946 media type). A ``JSONResponse`` so that OpenAPI shows the
    route's model under this type; the routes send pre-encoded bytes."""

    media_type = GEOJSON


def map_cache(request: Request) -> TtlCache[MapSnapshot]:
    """The app's map cache (created on first use, TTL ``map_cache_s`` of the app's clock)."""
    state = request.app.state
    found: TtlCache[MapSnapshot] | None = getattr(state, "map_cache", None)
    if found is None:
        with _cache_lock:
            found = getattr(state, "map_cache", None)
            if found is None:
                settings: ApiSettings = state.settings
                found = state.map_cache = TtlCache(settings.map_cache_s, settings.clock)
    return found


def _visibility(principal: Principal | None) -> Hashable:
    """What decides which sensors a caller sees: the public, everything, or a vendor's set."""
    if principal is None:
        return "public"
    if principal.sees_all:
        return "all"
    if principal.role == "vendor":
        return ("vendor", principal.sensors)
    return "public"


async def _snapshot(request: Request, principal: Principal | None) -> MapSnapshot:
    cached = map_cache(request)
    key = _visibility(principal)
    hit = cached.peek(key)
    if hit is not None:
        return hit
    state = request.app.state
    store: ReadingStore = state.store
    meta: MetadataStore = state.meta
    settings: ApiSettings = state.settings

    def compute() -> MapSnapshot:
        sensors = [s for s in meta.sensors.all() if visible(principal, s)]
        return build_snapshot(store, sensors, settings.clock(), settings)

    return await run_in_threadpool(cached.get, key, compute)


@router.get(
    "/api/v1/map",
    summary="The noise map as GeoJSON",
    response_model=MapOut,
    response_class=GeoJSONResponse,
    responses={
        200: {"description": "A GeoJSON FeatureCollection (RFC 7946)."},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **_ERRORS,
    },
    openapi_extra=_SECURITY,
)
async def get_map(request: Request) -> Response:
    """The sensors the caller may see (without a key: the public ones) with their level now
    (last 15 minutes), over the last hour and yesterday's Lden, status and colour class."""
    principal = await map_principal(request)
    snapshot = await _snapshot(request, principal)
    return answer_bytes(request, principal, snapshot.geojson, snapshot.geojson_etag, GEOJSON)


@router.get(
    "/api/v1/map/rows",
    summary="The noise map as flat rows",
    response_model=list[MapRowOut],
    responses={304: {"description": "Not modified."}, **_ERRORS},
    openapi_extra=_SECURITY,
)
async def get_map_rows(request: Request) -> Response:
    """The map's features as flat rows with `lat` and `lon` (for Grafana's Infinity)."""
    principal = await map_principal(request)
    snapshot = await _snapshot(request, principal)
    return answer_bytes(request, principal, snapshot.rows, snapshot.rows_etag, "application/json")


@router.get(
    "/api/v1/map/config",
    summary="Settings of the map page",
    response_model=MapConfigOut,
    responses=_ERRORS,
    openapi_extra=_SECURITY,
)
async def get_map_config(request: Request) -> Response:
    """Tile URL and attribution, refresh interval, colour classes, guideline values and the
    area where citizens' noise reports may be placed."""
    principal = await map_principal(request)
    body = _config_bytes(request.app.state.settings)
    response = Response(body, media_type="application/json")
    cache_headers(response, principal, settled=False)
    return response


@router.get(
    "/api/v1/map/lines",
    summary="Motorways and railway (schematic)",
    response_class=GeoJSONResponse,
    responses={200: {"description": "A GeoJSON FeatureCollection (RFC 7946)."}},
)
async def get_map_lines() -> Response:
    """Schematic lines of Holbækmotorvejen, Køge Bugt Motorvejen and the Copenhagen-Ringsted
    railway near Vallensbæk (drawn by hand from approximate coordinates, not survey data)."""
    response = Response(_lines_bytes(), media_type=GEOJSON)
    response.headers["Cache-Control"] = f"public, max-age={_PAGE_MAX_AGE}"
    return response


@router.get("/", summary="The noise map page", response_class=HTMLResponse)
async def get_root_page() -> Response:
    """The public noise map (HTML; Danish, with an English switch)."""
    return _page()


@router.get("/map", summary="The noise map page", response_class=HTMLResponse)
async def get_map_page() -> Response:
    """The public noise map (HTML; Danish, with an English switch)."""
    return _page()


@router.get(
    "/static/{path:path}",
    include_in_schema=False,
    responses={404: {"model": ErrorOut, "description": "No such file."}},
)
async def get_static(path: str) -> FileResponse:
    """A file of the page, with its content type; Leaflet's files are cached for a day."""
    try:
        target = (STATIC_DIR / path).resolve()
        found = target.is_relative_to(STATIC_DIR) and target.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long
        found = False
    if not found:
        raise HTTPException(404, f"no static file {path[:80]!r}")
    media_type = _TYPES.get(target.suffix, "application/octet-stream")
    vendor = target.is_relative_to(STATIC_DIR / "vendor")
    age = _VENDOR_MAX_AGE if vendor else _PAGE_MAX_AGE
    return FileResponse(
        target,
        media_type=media_type,
        headers={"Cache-Control": f"public, max-age={age}", "X-Content-Type-Options": "nosniff"},
    )


def _page() -> Response:
    response = HTMLResponse(_page_bytes())
    response.headers["Cache-Control"] = f"public, max-age={_PAGE_MAX_AGE}"
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@cache
def _page_bytes() -> bytes:
    return (STATIC_DIR / "index.html").read_bytes()


@cache
def _lines_bytes() -> bytes:
    return (DATA_DIR / "lines.geojson").read_bytes()


def _config_bytes(settings: ApiSettings) -> bytes:
    config = {
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "tile_attribution_url": settings.tile_attribution_url,
        "refresh_s": settings.map_refresh_s,
        "zone": settings.zone,
        "centre": list(CENTRE),
        "zoom": ZOOM,
        "bands": [
            {"label": b.label, "low": b.low, "high": b.high, "colour": b.colour} for b in BANDS
        ],
        "no_data_colour": NO_DATA_COLOUR,
        "guidelines_lden_db": lden_guideline_values(),
        "strongly_affected_lden_db": STRONGLY_AFFECTED_LDEN_DB,
        "periods": {
            "day": f"{settings.day[0]:02d}-{settings.day[1]:02d}",
            "evening": f"{settings.evening[0]:02d}-{settings.evening[1]:02d}",
            "night": f"{settings.night[0]:02d}-{settings.night[1]:02d}",
        },
        "report_area": [
            [VALLENSBAEK.south, VALLENSBAEK.west],
            [VALLENSBAEK.north, VALLENSBAEK.east],
        ],
    }
    return msgspec.json.encode(config)
