"""``/api/v1/sensors/{id}/events``: pass-by events (trains, heavy vehicles) from raw readings.

Detection needs the running background before the first event, so the raw readings are read
from ``BACKGROUND_WINDOW_S`` before ``start``, and an event starting just before ``end`` must be
measured whole, so they are read until ``READ_AHEAD_S`` after ``end``; only events starting in
``[start, end)`` are returned.

Events are public (for public sensors): each is an aggregate over a pass-by (its LAeq, SEL,
Lmax and duration), not the raw per-second readings, so the "aggregated data only" rule for
public callers is kept without hiding them; the raw seconds stay behind a key in ``levels``.

A week of raw readings is the costliest public read (some 2.5 s of CPU), so the route is
``async`` and reading and detecting go through :func:`noiselab.api.read_gate.run_read`
(charged by :func:`noiselab.api.cost.events_cost`, run in the heavy pool). The encoded answer
is kept by (sensor, start, end, threshold) for ``FRESH_S`` (``SETTLED_S`` once no reading can
change it) and shared by every caller who may see the sensor; identical requests arriving
together compute it once. Without ``end`` the range ends at "now" rounded down to
``FRESH_S``, so such requests share the answer too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response

from noiselab.analysis.decibels import round_db
from noiselab.analysis.events import Event, detect_events
from noiselab.api.access import (
    PUBLIC_FRESH_S,
    PUBLIC_SETTLED_S,
    SENSOR_ERRORS,
    cache_headers,
    visible_sensor_async,
)
from noiselab.api.auth import OptionalPrincipal
from noiselab.api.cost import events_cost
from noiselab.api.deps import SensorsDep, SettingsDep, StoreDep
from noiselab.api.params import resolve_window
from noiselab.api.read_gate import Offload, run_read
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.events import EventsOut
from noiselab.api.ttl_cache import TtlCache
from noiselab.model import rfc3339
from noiselab.store.base import ReadingStore

__all__ = ["BACKGROUND_WINDOW_S", "MAX_SPAN", "READ_AHEAD_S", "method", "router"]

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

MAX_SPAN = timedelta(days=7)
"""Longest range one request may scan (raw readings, 604,800 at 1 Hz)."""
BACKGROUND_WINDOW_S = 600.0
READ_AHEAD_S = 900.0
"""How far past ``end`` an event starting before it is followed (long freight trains last
a few minutes)."""
FRESH_S = float(PUBLIC_FRESH_S)
"""How long an answer whose range may still change is kept, s (and how "now" is rounded)."""
SETTLED_S = float(PUBLIC_SETTLED_S)
"""How long an answer is kept once its range (and read-ahead) is in the past, s."""
ANSWERS_KEPT = 256


def method(threshold: float | None) -> str:
    """How the events were detected, in words, for the response."""
    above = (
        "the running background (L90 over the trailing 10 minutes) + 10 dB"
        if threshold is None
        else f"the absolute threshold {threshold:g} dB"
    )
    return (
        f"runs of LAeq above {above} lasting at least 3 s, runs less than 2 s apart merged; "
        "SEL and LAeq over the run; 10-dB-down duration around the peak"
    )


@router.get(
    "/{sensor_id}/events",
    summary="Pass-by events of one sensor",
    response_model=EventsOut,
    responses={
        **SENSOR_ERRORS,
        422: {
            "model": ErrorOut,
            "description": "A bad start, end or threshold, or a read over the caller's budget.",
        },
        503: {"model": ErrorOut, "description": "Too many costly reads; see `Retry-After`."},
    },
)
async def get_events(
    sensor_id: str,
    *,
    request: Request,
    store: StoreDep,
    sensors: SensorsDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    start: Annotated[
        str | None,
        Query(
            description="RFC 3339 time with offset, a date or epoch milliseconds; "
            "default end - 24 h."
        ),
    ] = None,
    end: Annotated[str | None, Query(description="Like start, exclusive; default now.")] = None,
    threshold: Annotated[
        float | None,
        Query(ge=0.0, le=160.0, description="Absolute threshold, dB; default background + 10 dB."),
    ] = None,
) -> Response:
    """Pass-by events (start, end, Lmax, SEL, 10-dB-down duration) starting in [start, end)."""
    await visible_sensor_async(sensors, sensor_id, principal)
    now = settings.clock()
    first, last = resolve_window(start, end, now - now % FRESH_S, settings.tz)
    if last - first > MAX_SPAN:
        raise HTTPException(422, f"start: at most {MAX_SPAN.days} days per request")
    settled = last.timestamp() + READ_AHEAD_S <= now  # an event is followed READ_AHEAD_S on
    answers = _answers(request, settings.clock, settled=settled)
    key = (sensor_id, first, last, threshold)
    body = answers.peek(key)
    if body is None:
        cost = events_cost(first, last, BACKGROUND_WINDOW_S, READ_AHEAD_S)

        def work(offload: Offload) -> bytes:
            return answers.get(key, lambda: offload(_encode, sensor_id, first, last, threshold))

        body = await run_read(request, principal, cost, store, work)
    response = Response(body, media_type="application/json")
    cache_headers(response, principal, settled=settled)
    return response


def _answers(request: Request, clock: Callable[[], float], *, settled: bool) -> TtlCache[bytes]:
    """The app's kept answers: of settled ranges, or of ranges that may change."""
    state = request.app.state
    caches: tuple[TtlCache[bytes], TtlCache[bytes]] | None = getattr(state, "events_caches", None)
    if caches is None:
        caches = (TtlCache(FRESH_S, clock, ANSWERS_KEPT), TtlCache(SETTLED_S, clock, ANSWERS_KEPT))
        state.events_caches = caches
    return caches[settled]


def _encode(
    store: ReadingStore, sensor_id: str, first: datetime, last: datetime, threshold: float | None
) -> bytes:
    """The answer's JSON (``EventsOut``): events starting in ``[first, last)``."""
    series = store.series(
        sensor_id,
        first - timedelta(seconds=BACKGROUND_WINDOW_S),
        last + timedelta(seconds=READ_AHEAD_S),
    )
    events = []
    if len(series):
        events = detect_events(
            series.ts,
            series.laeq,
            lafmax=series.lafmax,
            durations=series.duration,
            threshold=threshold,
            background_window_s=BACKGROUND_WINDOW_S,
        )
    lo, hi = first.timestamp(), last.timestamp()
    body = {
        "sensor_id": sensor_id,
        "start": rfc3339(first),
        "end": rfc3339(last),
        "method": method(threshold),
        "events": [_event_json(e) for e in events if lo <= e.start < hi],
    }
    return msgspec.json.encode(body)


def _event_json(event: Event) -> dict[str, object]:
    return {
        "start": rfc3339(datetime.fromtimestamp(event.start, UTC)),
        "end": rfc3339(datetime.fromtimestamp(event.end, UTC)),
        "duration_s": round(event.duration_s, 3),
        "lmax": round_db(event.lmax),
        "lmax_is_fast": event.lmax_is_fast,
        "sel": round_db(event.sel),
        "leq": round_db(event.leq),
        "background": round_db(event.background),
        "threshold": round_db(event.threshold),
        "duration_10db": None if event.duration_10db is None else round(event.duration_10db, 3),
    }
