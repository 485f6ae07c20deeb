"""A settable clock for the code that takes one."""

from __future__ import annotations


class Clock:
    """A settable "now" (Unix s), injected as the API's clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
