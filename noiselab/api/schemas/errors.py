"""The body of every error answer: ``{"detail": "..."}`` (4xx for the caller's mistakes)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from noiselab.api.schemas.base import Out, with_example

__all__ = ["ErrorOut"]


class ErrorOut(Out):
    """An error a person can read (validation errors also carry FastAPI's list)."""

    model_config = with_example(detail="unknown sensor 'vb-nope'")

    detail: str = Field(examples=["every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors only: each with loc, msg and type."
    )
