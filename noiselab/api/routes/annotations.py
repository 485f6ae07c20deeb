"""``/api/v1/annotations``: staff annotations of periods and places, and their Grafana feed.
Staff and admin keys only (no key 401, a vendor key 403).

An annotation marks a period of some sensors, of the registered sensors near a place (found
when it is saved and kept as its sensor list), or of every sensor, with a category and a
reason; ``exclude`` asks for the period to be left out of the indicators and trials.
Annotations are never edited or deleted; one can be withdrawn once, with a reason (a second
withdrawal answers 409). Who acted is the key's name and id. The list is oldest first: pass
the last ``id`` of a page as ``after_id`` for the next one (``X-Next-After-Id`` carries it when
the page was full). ``/feed`` answers the active annotations of a range as rows of a Grafana
annotation query (Infinity; times in epoch milliseconds).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.annotations import feed_rows
from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.deps import MetaDep, SettingsDep, ValidityDep
from noiselab.api.params import MAX_ID, RowId, parse_instant
from noiselab.api.schemas.annotations import (
    AnnotationFeedRow,
    AnnotationIn,
    AnnotationOut,
    AnnotationWithdrawIn,
    PlaceOut,
)
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.settings import ApiSettings
from noiselab.model import utc
from noiselab.store.metadata import AlreadyWithdrawnAnnotation, Annotation, Place

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/annotations", tags=["annotations"])

MAX_PAGE = 1000
"""Most annotations one list or feed request answers."""
_BAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."}
}
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such annotation."}
}
_START = (
    "Annotations whose period ends after this: RFC 3339 with offset, a date (local midnight) "
    "or epoch milliseconds (Grafana's ${__from})."
)
_END = "Annotations whose period starts before this; like start (Grafana's ${__to})."
StartQuery = Annotated[str | None, Query(max_length=40, description=_START)]
EndQuery = Annotated[str | None, Query(max_length=40, description=_END)]
SensorQuery = Annotated[
    str | None,
    Query(max_length=64, description="Only those concerning this sensor (and every sensor)."),
]


def _out(annotation: Annotation) -> AnnotationOut:
    place = annotation.place
    return AnnotationOut(
        id=annotation.id or 0,
        start=annotation.start,
        end=annotation.end,
        sensor_ids=list(annotation.sensor_ids),
        place=None
        if place is None
        else PlaceOut(lat=place.lat, lon=place.lon, radius_m=place.radius_m),
        category=annotation.category,
        text=annotation.text,
        exclude=annotation.exclude,
        created_by=annotation.created_by,
        created_by_key=annotation.created_by_key,
        created_at=annotation.created_at,
        active=annotation.active,
        withdrawn_at=annotation.withdrawn_at,
        withdrawn_by=annotation.withdrawn_by,
        withdrawn_by_key=annotation.withdrawn_by_key,
        withdraw_reason=annotation.withdraw_reason,
    )


def _now(settings: SettingsDep) -> datetime:
    return utc(settings.clock())


def _range(
    start: str | None, end: str | None, settings: ApiSettings
) -> tuple[datetime | None, datetime | None]:
    first = parse_instant("start", start, settings.tz) if start else None
    last = parse_instant("end", end, settings.tz) if end else None
    if first is not None and last is not None and first >= last:
        raise HTTPException(422, "start: must be before end")
    return first, last


@router.post(
    "",
    summary="Annotate a period of some sensors, of a place or of every sensor",
    status_code=201,
    responses={**GUARDED, **_BAD},
)
def create_annotation(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    body: AnnotationIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    staff: Staff,
    validity: ValidityDep,
) -> AnnotationOut:
    """Mark a period with a category and a reason; ``exclude`` leaves it out of the
    indicators and trials. With a ``place``, the registered sensors within its radius are
    found now and kept. An unknown sensor, a place without sensors, sensors and a place
    together, or a period off whole minutes or longer than 366 days answers 422."""
    no_store(response)
    place = body.place
    try:
        annotation = Annotation(
            start=body.start.astimezone(UTC),
            end=body.end.astimezone(UTC),
            sensor_ids=tuple(sorted(set(body.sensor_ids))),
            place=None
            if place is None
            else Place(lat=place.lat, lon=place.lon, radius_m=place.radius_m),
            category=body.category,
            text=body.text.strip(),
            exclude=body.exclude,
            created_by=staff.name,
            created_by_key=staff.key_id,
            created_at=_now(settings),
        )
        stored = meta.annotations.add(annotation)
    except ValueError as exc:  # UnknownSensor and NoSensorsNearby too
        raise HTTPException(422, str(exc)) from exc
    validity.changed()  # applies at once to this process's answers
    response.headers["Location"] = f"{router.prefix}/{stored.id}"
    return _out(stored)


@router.get("", summary="Annotations, oldest first", responses={**GUARDED, **_BAD})
def list_annotations(
    *,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
    sensor_id: SensorQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    include_withdrawn: Annotated[
        bool, Query(description="false: only the annotations that apply.")
    ] = True,
    after_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Next page: the last id of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[AnnotationOut]:
    """Every annotation, oldest first, withdrawn ones included (with who withdrew them, when
    and why) unless ``include_withdrawn=false``."""
    no_store(response)
    first, last = _range(start, end, settings)
    found = meta.annotations.find(
        sensor_id=sensor_id,
        start=first,
        end=last,
        include_withdrawn=include_withdrawn,
        after_id=after_id,
        limit=limit,
    )
    if len(found) == limit:
        response.headers["X-Next-After-Id"] = str(found[-1].id)
    return [_out(a) for a in found]


@router.get(
    "/feed",
    summary="Active annotations as Grafana annotation rows",
    responses={**GUARDED, **_BAD},
)
def annotation_feed(
    *,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
    sensor_id: SensorQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> list[AnnotationFeedRow]:
    """The active annotations overlapping ``[start, end)`` (those of ``sensor_id`` and of
    every sensor, or all), by start, as flat rows for a Grafana annotation query with the
    Infinity data source: ``time`` and ``timeEnd`` in epoch milliseconds, ``title``, ``text``
    and comma-separated ``tags``. See docs/grafana.md."""
    no_store(response)
    first, last = _range(start, end, settings)
    found = meta.annotations.for_sensor(sensor_id, first, last, limit=limit)
    return [AnnotationFeedRow(**dataclasses.asdict(row)) for row in feed_rows(found)]


@router.get("/{annotation_id}", summary="One annotation", responses={**GUARDED, **_UNKNOWN, **_BAD})
def get_annotation(
    annotation_id: RowId, response: Response, meta: MetaDep, _staff: Staff
) -> AnnotationOut:
    """One annotation, with its withdrawal if it was withdrawn."""
    no_store(response)
    found = meta.annotations.get(annotation_id)
    if found is None:
        raise HTTPException(404, f"unknown annotation {annotation_id}")
    return _out(found)


@router.post(
    "/{annotation_id}/withdraw",
    summary="Withdraw an annotation",
    responses={
        **GUARDED,
        **_UNKNOWN,
        **_BAD,
        409: {"model": ErrorOut, "description": "It was withdrawn before."},
    },
)
def withdraw_annotation(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    annotation_id: RowId,
    body: AnnotationWithdrawIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    staff: Staff,
    validity: ValidityDep,
) -> AnnotationOut:
    """Stop applying an annotation, with a reason. Its row stays with both reasons, who made
    and who withdrew it, and when."""
    no_store(response)
    try:
        found = meta.annotations.withdraw(
            annotation_id,
            by=staff.name,
            key_id=staff.key_id,
            reason=body.reason.strip(),
            when=_now(settings),
        )
    except AlreadyWithdrawnAnnotation as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    validity.changed()
    if found is None:
        raise HTTPException(404, f"unknown annotation {annotation_id}")
    return _out(found)
