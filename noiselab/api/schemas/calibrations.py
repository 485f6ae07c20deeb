"""Request and response models of ``/api/v1/sensors/{id}/calibrations``: a sensor's
calibration log.

An entry is a field calibration (``kind="field"``: the calibrator's ``reference_db``, the level
read ``before_db`` adjustment and, when adjusted, ``after_db``) or the sensor's own calibrator-
tone check (``kind="tone"``, ``by="tone check"``, no ``after_db``). Levels in dB re 20 µPa;
times UTC with ``Z``. Each entry carries its ``deviation_db`` (before minus reference) and its
``drift_db`` since the previous active entry; the data between two entries that drifted more
than 0.5 dB apart is *calibration uncertain* (``uncertain``).
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.store.metadata import CalibrationKind
from noiselab.store.metadata.calibrations import MAX_BY_LENGTH, MAX_NOTE_LENGTH

__all__ = ["CalibrationHistoryOut", "CalibrationIn", "CalibrationOut", "UncertainSpanOut"]

_ENTRY: dict[str, Any] = {
    "id": 12,
    "sensor_id": "bg-vallensbaek-mose",
    "ts": "2026-11-09T02:00:00Z",
    "kind": "tone",
    "reference_db": 94.0,
    "before_db": 94.8,
    "after_db": None,
    "by": "tone check",
    "note": "",
    "created_at": "2026-11-09T02:00:01Z",
    "active": True,
    "withdrawn_at": None,
    "withdrawn_by": None,
    "withdraw_reason": None,
    "deviation_db": 0.8,
    "drift_db": 0.8,
    "drift_exceeds": True,
}
_SPAN: dict[str, Any] = {
    "start": "2026-11-02T10:00:00Z",
    "end": "2026-11-09T02:00:00Z",
    "drift_db": 0.8,
    "from_id": 7,
    "to_id": 12,
    "reason": "calibration uncertain: drift +0.80 dB between calibrations on 2026-11-02 and "
    "2026-11-09",
}


class CalibrationIn(BaseModel):
    """A field calibration: the calibrator's level, what the sensor read before adjusting it
    and, when it was adjusted, after. ``ts`` defaults to now; ``by`` to the key's name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ts": "2026-11-02T10:00:00Z",
                    "reference_db": 94.0,
                    "before_db": 94.6,
                    "after_db": 94.0,
                    "by": "J. Hansen",
                    "note": "Class 1 calibrator, serial 2712",
                }
            ]
        },
    )

    ts: AwareDatetime | None = Field(default=None, description="When it was done (default now).")
    reference_db: float = Field(ge=0, le=160, allow_inf_nan=False, description="Calibrator, dB.")
    before_db: float = Field(
        ge=0, le=160, allow_inf_nan=False, description="Level read before adjustment, dB."
    )
    after_db: float | None = Field(
        default=None,
        ge=0,
        le=160,
        allow_inf_nan=False,
        description="Level read after adjustment, dB (null: not adjusted).",
    )
    by: str | None = Field(
        default=None, min_length=1, max_length=MAX_BY_LENGTH, description="Who calibrated."
    )
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class CalibrationOut(Out):
    """One entry of a sensor's calibration log, with its deviation and drift (dB, 0.01 dB)."""

    model_config = with_example(**_ENTRY)

    id: int
    sensor_id: str
    ts: UtcTime
    kind: CalibrationKind
    reference_db: float
    before_db: float
    after_db: float | None
    by: str
    note: str
    created_at: UtcTime
    active: bool = Field(description="Counts: not withdrawn.")
    withdrawn_at: UtcTime | None
    withdrawn_by: str | None
    withdraw_reason: str | None
    deviation_db: float = Field(description="before_db - reference_db.")
    drift_db: float | None = Field(
        description="Deviation minus the offset the previous active entry left (after_db - "
        "reference_db, or its deviation when not adjusted); null for the first or a withdrawn "
        "entry."
    )
    drift_exceeds: bool = Field(description="|drift_db| > 0.5 dB.")


class UncertainSpanOut(Out):
    """Data between two consecutive active entries that drifted more than 0.5 dB apart:
    ``[start, end)`` is calibration uncertain."""

    model_config = with_example(**_SPAN)

    start: UtcTime
    end: UtcTime
    drift_db: float
    from_id: int
    to_id: int
    reason: str


class CalibrationHistoryOut(Out):
    """A sensor's calibration log in the order done, and its calibration-uncertain spans."""

    model_config = with_example(
        sensor_id="bg-vallensbaek-mose",
        tolerance_db=0.5,
        calibrations=[_ENTRY],
        uncertain=[_SPAN],
    )

    sensor_id: str
    tolerance_db: float = Field(description="Largest drift that leaves data valid, dB.")
    calibrations: list[CalibrationOut]
    uncertain: list[UncertainSpanOut]
