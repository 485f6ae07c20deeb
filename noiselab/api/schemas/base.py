"""The base of every response model, and the types the models share.

Conventions of every answer: times are RFC 3339 in UTC with ``Z``; levels are dB re 20 µPa,
A-weighted unless a name says otherwise (``lzeq``), rounded to 0.01 dB; ``coverage`` is
measured seconds over the seconds asked for (0..1), rounded to 0.0001.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

__all__ = ["Out", "UtcTime", "with_example"]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware instant, converted to UTC (serialised with ``Z``)."""


class Out(BaseModel):
    """A response model: immutable, and refusing fields it does not declare (so a test that
    validates a body against it notices a field added by mistake)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def with_example(**example: Any) -> ConfigDict:
    """The config of a response model with one whole example (shown in OpenAPI)."""
    return ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [example]})
