"""One evaluation pass: every enabled rule on each of its sensors, at an injected ``now``.

Rules of the kinds in ``LOGGED_KINDS`` (``calibration_drift``) are left out: their alerts open
when a calibration is logged (:mod:`noiselab.calibration.drift`) and only staff resolve them.

For each (rule, sensor) the check (:mod:`noiselab.alerts.checks`) says whether the condition
holds, and :func:`decide` what to do about it:

- it holds and an alert is unresolved: note the latest value (``hold``);
- it holds and none is: open one (``open``), unless the previous one was resolved less than
  ``cooldown_s`` ago; the database's unique ``open_key`` keeps one unresolved alert per rule
  and sensor even when two evaluators race;
- it does not hold and an alert is unresolved whose condition last held ``cooldown_s`` or
  more ago: resolve it (``resolve``);
- else nothing.

A failing rule is logged and skipped; the others are still evaluated. When a rule with a
``webhook_url`` opens or resolves an alert, its delivery is queued in the same transaction
(the outbox, sent by :class:`~noiselab.alerts.webhook.WebhookSender`); ``notify`` is then
called, after the commit (to wake the sender).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from noiselab.alerts.checks import Context, Finding, check
from noiselab.errors import NoiselabError, QueryError
from noiselab.logs import event
from noiselab.model import Sensor
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import (
    EVALUATOR,
    LOGGED_KINDS,
    Alert,
    AlertRule,
    MetadataStore,
    TransitionError,
)

__all__ = ["Action", "Evaluator", "Outcome", "decide", "rule_sensors"]

log = logging.getLogger("noiselab.alerts")

Action = Literal["open", "hold", "resolve", "none"]
Notify = Callable[[AlertRule, Alert, str], object]
"""Called with the rule, the alert and ``"opened"`` or ``"resolved"`` once the delivery of a
rule with a ``webhook_url`` is queued (committed)."""


@dataclass(slots=True)
class Outcome:
    """What one pass did: alerts opened, held, resolved, and rule/sensor pairs that failed."""

    opened: list[Alert] = field(default_factory=list)
    held: int = 0
    resolved: list[Alert] = field(default_factory=list)
    failed: int = 0


def decide(
    finding: Finding,
    unresolved: Alert | None,
    last_resolved: datetime | None,
    cooldown_s: int,
    now: datetime,
) -> Action:
    """What to do about a check's ``finding`` (see the module docstring)."""
    cooldown = timedelta(seconds=cooldown_s)
    if finding.holds:
        if unresolved is not None:
            return "hold"
        if last_resolved is not None and now - last_resolved < cooldown:
            return "none"
        return "open"
    if unresolved is not None and now - unresolved.last_held_at >= cooldown:
        return "resolve"
    return "none"


def rule_sensors(rule: AlertRule, sensors: list[Sensor]) -> list[str]:
    """The registered sensors ``rule`` watches: its ``sensor_ids``, else those of its
    ``source``, else all."""
    if rule.sensor_ids:
        known = {s.id for s in sensors}
        return [sid for sid in rule.sensor_ids if sid in known]
    return [s.id for s in sensors if rule.source is None or s.source == rule.source]


class Evaluator:
    """Evaluates the enabled rules against ``store`` and ``meta``."""

    def __init__(
        self,
        store: ReadingStore,
        meta: MetadataStore,
        *,
        zone: ZoneInfo,
        day: tuple[int, int] = (7, 19),
        evening: tuple[int, int] = (19, 22),
        notify: Notify | None = None,
    ) -> None:
        self._store, self._meta = store, meta
        self._repo = meta.alerts
        self._zone, self._day, self._evening = zone, day, evening
        self._notify = notify

    def run(self, now: float) -> Outcome:
        """One pass at ``now`` (Unix s). Store and database errors reading the rules or the
        sensors propagate (the caller retries); errors of one check are logged and counted."""
        rules = [
            rule
            for rule in self._repo.list_rules(enabled_only=True)
            if rule.kind not in LOGGED_KINDS  # opened when logged (a calibration's drift)
        ]
        sensors = self._meta.sensors.all()
        ctx = self._context(rules, sensors, now)
        outcome = Outcome()
        for rule in rules:
            for sensor_id in rule_sensors(rule, sensors):
                try:
                    self._one(rule, sensor_id, ctx, outcome)
                except (NoiselabError, ValueError) as exc:
                    outcome.failed += 1
                    level = logging.INFO if isinstance(exc, QueryError) else logging.WARNING
                    event(
                        log,
                        "alert check failed",
                        level=level,
                        rule=rule.id,
                        sensor=sensor_id,
                        error=str(exc),
                    )
        return outcome

    def _context(self, rules: list[AlertRule], sensors: list[Sensor], now: float) -> Context:
        activity = {a.sensor_id: a for a in self._store.activity()}
        windows = {r.window_s for r in rules if r.kind == "quarantine_rate"}
        counts = {
            w: self._meta.quarantine.counts_by_sensor(datetime.fromtimestamp(now - w, UTC))
            for w in windows
        }
        registered = {s.id: s.created.timestamp() for s in sensors}
        return Context(
            now, self._zone, self._day, self._evening, self._store, activity, counts, registered
        )

    def _one(self, rule: AlertRule, sensor_id: str, ctx: Context, outcome: Outcome) -> None:
        assert rule.id is not None
        finding = check(rule, sensor_id, ctx)
        now = datetime.fromtimestamp(ctx.now, UTC)
        unresolved = self._repo.open_alert(rule.id, sensor_id)
        last = (
            None
            if unresolved or not finding.holds
            else self._repo.last_resolved(rule.id, sensor_id)
        )
        action = decide(finding, unresolved, last, rule.cooldown_s, now)
        if action == "hold" and unresolved is not None:
            self._repo.still_holds(unresolved.id, now=now, value=finding.value)
            outcome.held += 1
        elif action == "open":
            opened = self._repo.open_new(
                rule,
                sensor_id,
                now=now,
                value=finding.value,
                unit=finding.unit,
                evidence=finding.evidence,
            )
            if opened is not None:
                outcome.opened.append(opened)
                event(
                    log,
                    "alert opened",
                    alert=opened.id,
                    rule=rule.id,
                    sensor=sensor_id,
                    value=finding.value,
                )
                self._tell(rule, opened, "opened")
        elif action == "resolve" and unresolved is not None:
            self._resolve(rule, unresolved, now, outcome)

    def _resolve(self, rule: AlertRule, alert: Alert, now: datetime, outcome: Outcome) -> None:
        quiet = int((now - alert.last_held_at).total_seconds())
        note = f"condition clear for {quiet} s (cooldown {rule.cooldown_s} s)"
        try:
            resolved = self._repo.resolve(
                alert.id, actor=EVALUATOR, key_id=None, note=note, now=now, notify=rule
            )
        except TransitionError:
            return  # a person resolved it meanwhile
        if resolved is not None:
            outcome.resolved.append(resolved)
            event(log, "alert resolved", alert=alert.id, rule=rule.id, sensor=alert.sensor_id)
            self._tell(rule, resolved, "resolved")

    def _tell(self, rule: AlertRule, alert: Alert, what: str) -> None:
        if self._notify is not None and rule.webhook_url:
            self._notify(rule, alert, what)
