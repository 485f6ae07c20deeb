"""Response model of ``/healthz``."""

from __future__ import annotations

from typing import Literal

from noiselab.api.schemas.base import Out, with_example

__all__ = ["HealthOut"]


class HealthOut(Out):
    """The service and the databases behind it answer."""

    model_config = with_example(status="ok")

    status: Literal["ok"]
