"""``/api/v1/corrections``: staff corrections of stored history and their audit log. Staff and
admin keys only (no key 401, a vendor key 403).

A correction never changes a stored reading: it is an overlay that the daily indicators, the
levels (unless asked ``as_measured``) and the trial evaluations apply (an excluded range, or an
offset in dB), while every raw time series stays as measured. Corrections are never edited
or deleted; one can be withdrawn once, with a reason (a second withdrawal answers 409). Who
acted is the key's name and id. The list is the audit log, oldest first: pass the last ``id``
of a page as ``after_id`` for the next one (the ``X-Next-After-Id`` header carries it when the
page was full).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.deps import MetaDep, SettingsDep, ValidityDep
from noiselab.api.params import MAX_ID, RowId, parse_instant
from noiselab.api.schemas.corrections import CorrectionIn, CorrectionOut, WithdrawIn
from noiselab.api.schemas.errors import ErrorOut
from noiselab.model import utc
from noiselab.store.metadata import AlreadyWithdrawn, Correction

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/corrections", tags=["corrections"])

MAX_PAGE = 1000
"""Most corrections one list request answers."""
_BAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."}
}
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such correction."}
}


def _out(correction: Correction) -> CorrectionOut:
    return CorrectionOut(**msgspec.structs.asdict(correction), active=correction.active)


def _now(settings: SettingsDep) -> datetime:
    return utc(settings.clock())


@router.post(
    "",
    summary="Correct a range of a sensor's data",
    status_code=201,
    responses={**GUARDED, **_BAD},
)
def create_correction(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    body: CorrectionIn,
    response: Response,
    meta: MetaDep,
    validity: ValidityDep,
    settings: SettingsDep,
    staff: Staff,
) -> CorrectionOut:
    """Exclude a range of a sensor's data from the indicators and trial evaluations, or add
    an offset (dB) to its levels there; the stored readings stay as measured. An unknown
    sensor or a range off whole minutes answers 422."""
    no_store(response)
    try:
        correction = Correction(
            sensor_id=body.sensor_id,
            start=body.start.astimezone(UTC),
            end=body.end.astimezone(UTC),
            kind=body.kind,
            offset_db=body.offset_db,
            reason=body.reason.strip(),
            created_by=staff.name,
            created_by_key=staff.key_id,
            created_at=_now(settings),
        )
        stored = meta.corrections.add(correction)
    except ValueError as exc:  # UnknownSensor too
        raise HTTPException(422, str(exc)) from exc
    validity.changed()  # applies at once to this process's answers
    response.headers["Location"] = f"{router.prefix}/{stored.id}"
    return _out(stored)


@router.get("", summary="The audit log of corrections", responses={**GUARDED, **_BAD})
def list_corrections(
    *,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
    sensor_id: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[
        str | None,
        Query(
            description="Corrections whose range ends after this: RFC 3339 with offset, a date "
            "(local midnight) or epoch milliseconds."
        ),
    ] = None,
    end: Annotated[
        str | None, Query(description="Corrections whose range starts before this; like start.")
    ] = None,
    include_withdrawn: Annotated[
        bool, Query(description="false: only the corrections that apply.")
    ] = True,
    after_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Next page: the last id of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[CorrectionOut]:
    """Every correction, oldest first, withdrawn ones included (with who withdrew them, when
    and why) unless ``include_withdrawn=false``."""
    no_store(response)
    first = parse_instant("start", start, settings.tz) if start else None
    last = parse_instant("end", end, settings.tz) if end else None
    if first is not None and last is not None and first >= last:
        raise HTTPException(422, "start: must be before end")
    found = meta.corrections.find(
        sensor_ids=None if sensor_id is None else [sensor_id],
        start=first,
        end=last,
        include_withdrawn=include_withdrawn,
        after_id=after_id,
        limit=limit,
    )
    if len(found) == limit:
        response.headers["X-Next-After-Id"] = str(found[-1].id)
    return [_out(c) for c in found]


@router.get("/{correction_id}", summary="One correction", responses={**GUARDED, **_UNKNOWN, **_BAD})
def get_correction(
    correction_id: RowId, response: Response, meta: MetaDep, _staff: Staff
) -> CorrectionOut:
    """One correction, with its withdrawal if it was withdrawn."""
    no_store(response)
    found = meta.corrections.get(correction_id)
    if found is None:
        raise HTTPException(404, f"unknown correction {correction_id}")
    return _out(found)


@router.post(
    "/{correction_id}/withdraw",
    summary="Withdraw a correction",
    responses={
        **GUARDED,
        **_UNKNOWN,
        **_BAD,
        409: {"model": ErrorOut, "description": "It was withdrawn before."},
    },
)
def withdraw_correction(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    correction_id: RowId,
    body: WithdrawIn,
    response: Response,
    meta: MetaDep,
    validity: ValidityDep,
    settings: SettingsDep,
    staff: Staff,
) -> CorrectionOut:
    """Stop applying a correction, with a reason. Its row stays in the audit log with both
    reasons, who made and who withdrew it, and when."""
    no_store(response)
    try:
        found = meta.corrections.withdraw(
            correction_id,
            by=staff.name,
            key_id=staff.key_id,
            reason=body.reason.strip(),
            when=_now(settings),
        )
    except AlreadyWithdrawn as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if found is None:
        raise HTTPException(404, f"unknown correction {correction_id}")
    validity.changed()  # applies at once to this process's answers
    return _out(found)
