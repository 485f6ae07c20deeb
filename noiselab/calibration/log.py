"""Logging a calibration, then checking its drift: what the API, the command line, the demo
and the ingest of tone checks all call.

:class:`CalibrationLog` stores an entry (append-only, :mod:`noiselab.store.metadata.calibrations`)
and runs the drift check (:mod:`noiselab.calibration.drift`) on it. :class:`ToneCheckRecorder`
is the ingest worker's sink for parsed tone checks (:mod:`noiselab.ingest.tone`): a repeated
check is stored once and judged again harmlessly (an unresolved alert only notes it), so a
worker killed between the two loses no alert; a check that differs from the one logged for its
sensor and instant, and a check from a sensor that is not registered, come back as rejections
for the quarantine (the first naming both values; the logged check stands).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from noiselab.calibration.drift import DriftCheck
from noiselab.ingest.reasons import TONE_CONFLICT
from noiselab.ingest.tone import ToneCheck
from noiselab.model import Rejection, utc
from noiselab.store.metadata import (
    Alert,
    Calibration,
    MetadataStore,
    ToneCheckConflict,
    UnknownCalibrationSensor,
)

__all__ = ["CalibrationLog", "Logged", "ToneCheckRecorder"]

_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Logged:
    """A stored entry (``None`` when it repeated a stored tone check) and the drift alerts it
    opened."""

    calibration: Calibration | None
    alerts: list[Alert] = field(default_factory=list)


class CalibrationLog:
    """The calibration log of ``meta`` with its drift check; ``clock`` (Unix s) stamps alerts."""

    def __init__(self, meta: MetadataStore, clock: Callable[[], float] = time.time) -> None:
        self._meta, self._clock = meta, clock
        self._check = DriftCheck(meta)

    def add(self, calibration: Calibration) -> Logged:
        """Store ``calibration`` and judge its drift. An unregistered sensor raises
        :class:`~noiselab.store.metadata.UnknownCalibrationSensor`, a tone check that differs
        from the one stored for its sensor and instant
        :class:`~noiselab.store.metadata.ToneCheckConflict` (both ``ValueError``, nothing
        stored), bad values ``ValueError``, the database :class:`~noiselab.errors.StoreError`."""
        stored = self._meta.calibrations.add(calibration)
        if stored is None:
            stored = self._stored_repeat(calibration)
            if stored is None:
                return Logged(None)
            return Logged(None, self._check.judge(stored, utc(self._clock())))
        return Logged(stored, self._check.judge(stored, utc(self._clock())))

    def _stored_repeat(self, calibration: Calibration) -> Calibration | None:
        """The stored tone check that ``calibration`` repeats (same sensor and instant)."""
        found = self._meta.calibrations.history(
            calibration.sensor_id, start=calibration.ts, end=calibration.ts + _MS
        )
        return next((c for c in found if c.kind == "tone"), None)


class ToneCheckRecorder:
    """The ingest worker's sink for tone checks (module docstring)."""

    def __init__(self, log: CalibrationLog) -> None:
        self._log = log

    def record(self, checks: Sequence[ToneCheck]) -> list[Rejection]:
        """Log each check (durable when it returns) and judge its drift; the checks that
        conflict with a logged one or name an unregistered sensor, as rejections. Database
        errors propagate (the caller retries: logging is idempotent)."""
        refused: list[Rejection] = []
        for check in checks:
            try:
                self._log.add(check.calibration)
            except ToneCheckConflict as exc:
                refused.append(_rejection(check, f"{TONE_CONFLICT}: {exc.detail()}"))
            except UnknownCalibrationSensor:
                sensor_id = check.calibration.sensor_id
                reason = (
                    f"unknown sensor {sensor_id!r}: register it (noiselab sensors add) "
                    "before it reports tone checks"
                )
                refused.append(_rejection(check, reason))
        return refused


def _rejection(check: ToneCheck, reason: str) -> Rejection:
    """``check`` refused for ``reason``, as the quarantine keeps it (its message whole)."""
    return Rejection(
        topic=check.topic,
        sensor_id=check.calibration.sensor_id,
        raw=check.raw,
        reason=reason,
        received_at=check.received_at,
    )
