"""Request and response models of ``/api/v1/corrections``, and of the corrections a trial's
evaluation cites.

A correction is an overlay on stored history, never a change to it: a sensor's range
``[start, end)`` (RFC 3339, on whole minutes) either excluded or offset by ``offset_db`` (dB,
within ±20 dB), with a reason, who made it (the API key's name) and when. It can be withdrawn
once, with its own reason; the row keeps both. Times are UTC with ``Z``.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.analysis.corrections import CorrectionKind
from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.store.metadata import MAX_OFFSET_DB, MAX_REASON_LENGTH

__all__ = ["CitedCorrectionOut", "CorrectionIn", "CorrectionOut", "WithdrawIn"]

_CITED_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "sensor_id": "trial-blade-treated",
    "start": "2026-03-04T08:00:00Z",
    "end": "2026-03-04T11:30:00Z",
    "kind": "exclude",
    "offset_db": None,
    "reason": "Grass cutting beside the microphone (work order 2026-114).",
    "created_by": "kommune",
    "created_at": "2026-03-05T09:12:44Z",
    "active": True,
    "withdrawn_at": None,
    "withdrawn_by": None,
    "withdraw_reason": None,
}


class CorrectionIn(BaseModel):
    """A new correction: ``exclude`` leaves the range's data out of the indicators and trial
    evaluations, ``offset`` adds ``offset_db`` to every level in it. ``start`` and ``end``
    must be on whole minutes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sensor_id": "trial-blade-treated",
                    "start": "2026-03-04T08:00:00Z",
                    "end": "2026-03-04T11:30:00Z",
                    "kind": "offset",
                    "offset_db": -1.6,
                    "reason": "Calibrator check on 2026-03-04 found the sensor 1.6 dB high.",
                }
            ]
        },
    )

    sensor_id: str = Field(min_length=1, max_length=64, examples=["trial-blade-treated"])
    start: AwareDatetime = Field(description="First instant corrected, on a whole minute.")
    end: AwareDatetime = Field(description="First instant after the range, on a whole minute.")
    kind: CorrectionKind
    offset_db: float | None = Field(
        default=None,
        ge=-MAX_OFFSET_DB,
        le=MAX_OFFSET_DB,
        allow_inf_nan=False,
        description="dB added to every level in the range (offset only; not 0).",
    )
    reason: str = Field(
        min_length=1, max_length=MAX_REASON_LENGTH, description="Why; cited in trial reports."
    )


class WithdrawIn(BaseModel):
    """Why a correction is withdrawn (it stops applying; its row stays in the audit log)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Entered for the wrong sensor."}]},
    )

    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)


class CitedCorrectionOut(Out):
    """A correction as a trial's evaluation and report cite it: what, why, by whom, when, and
    whether it applies (``active``) or was withdrawn (by whom, when, why)."""

    model_config = with_example(**_CITED_EXAMPLE)

    id: int
    sensor_id: str
    start: UtcTime
    end: UtcTime
    kind: CorrectionKind
    offset_db: float | None = Field(description="dB added to every level (offset only).")
    reason: str
    created_by: str = Field(description="The name of the key (or person) that made it.")
    created_at: UtcTime
    active: bool = Field(description="Applied: not withdrawn.")
    withdrawn_at: UtcTime | None
    withdrawn_by: str | None
    withdraw_reason: str | None


class CorrectionOut(CitedCorrectionOut):
    """A row of the audit log of corrections, as staff see it: also the ids of the API keys
    that made and withdrew it (``null`` when made with the ``noiselab corrections`` command)."""

    model_config = with_example(
        **_CITED_EXAMPLE, created_by_key="82442cd1443e838b", withdrawn_by_key=None
    )

    created_by_key: str | None
    withdrawn_by_key: str | None
