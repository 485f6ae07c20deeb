"""The drift check: when a calibration is logged, compare it with the active one before and
after it; a drift of more than 0.5 dB raises a staff alert through the alert machinery.

Alerts belong to the enabled rules of kind ``calibration_drift`` that watch the sensor (the
built-in one, seeded by migration 0010, watches all). For each such rule the finding is
judged by :func:`noiselab.alerts.evaluate.decide` like any other: a new alert opens (its
webhook, when the rule has one, is queued in the same transaction and sent by the alert
service's webhook sender), or an alert still unresolved notes the new drift. The periodic
evaluator leaves these rules alone, so a drift alert stays open until staff resolve it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from noiselab.alerts.checks import Finding
from noiselab.alerts.evaluate import decide, rule_sensors
from noiselab.analysis.calibration import DRIFT_TOLERANCE_DB, exceeds_tolerance
from noiselab.calibration.history import with_drift
from noiselab.logs import event
from noiselab.model import rfc3339
from noiselab.store.metadata import Alert, AlertRule, Calibration, MetadataStore

__all__ = ["DriftCheck"]

log = logging.getLogger("noiselab.calibration")


def _entry(c: Calibration) -> dict[str, Any]:
    return {
        "id": c.id,
        "ts": rfc3339(c.ts),
        "kind": c.kind,
        "reference_db": c.reference_db,
        "before_db": c.before_db,
        "after_db": c.after_db,
        "by": c.by,
    }


def _finding(first: Calibration, second: Calibration, drift_db: float) -> Finding:
    evidence = {
        "drift_db": drift_db,
        "tolerance_db": DRIFT_TOLERANCE_DB,
        "from": _entry(first),
        "to": _entry(second),
        "uncertain_start": rfc3339(first.ts),
        "uncertain_end": rfc3339(second.ts),
    }
    return Finding(holds=True, value=drift_db, unit="dB", evidence=evidence)


class DriftCheck:
    """Judges newly logged calibrations of ``meta`` and raises drift alerts there."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta

    def drifted_pairs(self, logged: Calibration) -> list[tuple[Calibration, Calibration, float]]:
        """The pairs of consecutive active calibrations that ``logged`` is part of (with the
        one before it, and with the one after it when it was back-dated) whose drift (dB)
        exceeds the tolerance."""
        if logged.id is None or not logged.active:
            return []
        entries = self._meta.calibrations.history(logged.sensor_id, include_withdrawn=False)
        history = with_drift(entries)
        ids = [h.calibration.id for h in history]
        if logged.id not in ids:
            return []
        at = ids.index(logged.id)
        pairs = []
        for later in (at, at + 1):
            if 0 < later < len(history):
                drift = history[later].drift_db
                if drift is not None and exceeds_tolerance(drift):
                    pairs.append(
                        (history[later - 1].calibration, history[later].calibration, drift)
                    )
        return pairs

    def judge(self, logged: Calibration, now: datetime) -> list[Alert]:
        """Raise (or note on an unresolved alert) each drift ``logged`` shows; the alerts
        opened."""
        pairs = self.drifted_pairs(logged)
        if not pairs:
            return []
        rules = [
            rule
            for rule in self._meta.alerts.list_rules(enabled_only=True)
            if rule.kind == "calibration_drift"
        ]
        sensors = self._meta.sensors.all()
        opened: list[Alert] = []
        for rule in rules:
            if logged.sensor_id not in rule_sensors(rule, sensors):
                continue
            for first, second, drift in pairs:
                alert = self._raise(rule, logged.sensor_id, _finding(first, second, drift), now)
                if alert is not None:
                    opened.append(alert)
        return opened

    def _raise(
        self, rule: AlertRule, sensor_id: str, finding: Finding, now: datetime
    ) -> Alert | None:
        assert rule.id is not None
        repo = self._meta.alerts
        unresolved = repo.open_alert(rule.id, sensor_id)
        last = None if unresolved else repo.last_resolved(rule.id, sensor_id)
        action = decide(finding, unresolved, last, rule.cooldown_s, now)
        if action == "hold" and unresolved is not None:
            repo.still_holds(unresolved.id, now=now, value=finding.value)
            return None
        if action != "open":
            return None
        opened = repo.open_new(
            rule, sensor_id, now=now, value=finding.value, unit="dB", evidence=finding.evidence
        )
        if opened is not None:
            event(
                log,
                "calibration drift alert opened",
                alert=opened.id,
                rule=rule.id,
                sensor=sensor_id,
                drift_db=finding.value,
            )
        return opened
