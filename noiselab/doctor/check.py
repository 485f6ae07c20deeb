"""What one check of ``noiselab doctor`` reports, and the step that produces it.

A step is a callable that returns a short detail when its check passes, raises
:class:`CheckFailed` (what went wrong and how to fix it) when it fails, or :class:`CheckSkipped`
when there is nothing to check. The runner (:mod:`noiselab.doctor.runner`) turns each step into
one :class:`Check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Check", "CheckFailed", "CheckSkipped", "Status", "Step"]


class Status(StrEnum):
    """The outcome of a check, as printed."""

    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: the outcome, the check's name, a short detail and, for a
    failure, what to do about it."""

    status: Status
    name: str
    detail: str
    fix: str | None = None


class CheckFailed(Exception):  # noqa: N818 - reads as what happened to the check
    """The check failed: ``detail`` says what was seen, ``fix`` what to change."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


class CheckSkipped(Exception):  # noqa: N818 - reads as what happened to the check
    """Nothing to check (the message says why)."""


@dataclass(frozen=True, slots=True)
class Step:
    """A named check; it runs only when every step named in ``requires`` passed before it."""

    name: str
    run: Callable[[], str]
    requires: tuple[str, ...] = ()
