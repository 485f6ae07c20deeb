"""Alert rules, alerts and their history as records, validated when built.

- :class:`AlertRule`: what to watch; the built-in health rules are seeded by migration 0004
  and flagged ``builtin`` (they may be edited or disabled, not deleted).
- :class:`Alert`: one alert of a rule on a sensor.
- :class:`AlertEvent`: one line of an alert's history: who did what and when (``opened``,
  ``acknowledged``, ``resolved``, ``notified``, ``notify_failed``), with a note.

Lifecycle: ``open`` → ``acknowledged`` → ``resolved``, or ``open`` → ``resolved``; anything else
raises :class:`TransitionError`. Times are aware UTC datetimes; windows and durations are in
seconds. They are stored by :class:`~noiselab.store.metadata.alerts.AlertRepository`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import msgspec

from noiselab.errors import NoiselabError
from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, SOURCES, SensorSource, utcnow

__all__ = [
    "ALERT_STATES",
    "EVALUATOR",
    "LOGGED_KINDS",
    "MAX_NOTE",
    "RULE_KINDS",
    "Alert",
    "AlertEvent",
    "AlertRule",
    "AlertState",
    "Metric",
    "RuleInUse",
    "RuleKind",
    "TransitionError",
    "check_text",
]

RuleKind = Literal["level", "offline", "stuck", "quarantine_rate", "calibration_drift"]
"""``level``: a dB threshold on ``metric``; the others are the health rules.
``calibration_drift`` is raised when a calibration is logged, not by the periodic evaluator."""
RULE_KINDS: frozenset[str] = frozenset(get_args(RuleKind))
LOGGED_KINDS: frozenset[str] = frozenset({"calibration_drift"})
"""Rule kinds whose alerts open when something is logged (a calibration), not at the
evaluator's passes; the evaluator leaves them alone, so they never resolve by themselves."""
Metric = Literal["laeq", "lafmax", "lden"]
"""``laeq`` energetic mean over ``window_s``; ``lafmax`` highest LAFmax over ``window_s``;
``lden`` of the last complete local day."""
METRICS: frozenset[str] = frozenset(get_args(Metric))
AlertState = Literal["open", "acknowledged", "resolved"]
ALERT_STATES: frozenset[str] = frozenset(get_args(AlertState))
EVALUATOR = "evaluator"
"""The actor name of what the evaluator does (opening, auto-resolving, notifying)."""

DAY_S = 86_400
WEEK_S = 7 * DAY_S
MAX_NOTE = 2000
MAX_URL = 2000


class TransitionError(NoiselabError):
    """An alert cannot move to the asked state (the message says why)."""


class RuleInUse(NoiselabError):  # noqa: N818 - reads as the state of the rule
    """A rule cannot be deleted (built in, or alerts refer to it)."""


class AlertRule(msgspec.Struct, frozen=True, kw_only=True):
    """What to watch, validated when built (``ValueError`` naming the bad field).

    - ``kind="level"``: ``metric`` above ``threshold`` dB. ``laeq`` is the energetic mean of
      the minute roll-ups over the ``window_s`` before each check (60 s..1 day, whole
      minutes), ``lafmax`` the highest LAFmax in it; ``lden`` the Lden of the last complete
      local day (``window_s`` is then 86400). ``local_hours=(from, to)`` limits a ``laeq`` or
      ``lafmax`` rule to local hours ``[from, to)`` in the zone (``(22, 7)`` crosses midnight):
      only minutes inside count, and the rule only holds while the current minute is inside.
      ``min_duration_s``: the condition must hold at every minute check over that time.
    - ``kind="offline"``: no data for ``window_s`` seconds (``threshold`` unused, None).
    - ``kind="stuck"``: the level has stayed within ``threshold`` dB (default 0) of one value
      for at least ``window_s`` seconds, up to the latest reading.
    - ``kind="quarantine_rate"``: quarantined / (stored + quarantined) over the last
      ``window_s`` seconds above ``threshold`` (a fraction 0..1).
    - ``kind="calibration_drift"``: a newly logged calibration drifted more than 0.5 dB from
      the one before or after it (:mod:`noiselab.analysis.calibration`; ``threshold`` unused,
      None; ``window_s`` unused). Raised when the calibration is logged, never resolved by
      itself: staff resolve it.

    Sensors: ``sensor_ids``, else every sensor of ``source``, else all registered sensors.
    ``cooldown_s``: an alert resolves itself once the condition has been clear that long, and
    after a manual resolution no new alert opens for that long. ``webhook_url``: POSTed JSON
    when an alert of this rule opens or resolves itself (no credentials in it; where it may
    point is the policy of :mod:`noiselab.alerts.url_policy`, checked by the API and the
    sender).
    """

    id: int | None = None
    name: str
    kind: RuleKind = "level"
    metric: Metric | None = None
    window_s: int = 900
    threshold: float | None = None
    sensor_ids: tuple[str, ...] = ()
    source: SensorSource | None = None
    local_hours: tuple[int, int] | None = None
    min_duration_s: int = 0
    cooldown_s: int = 900
    webhook_url: str | None = None
    enabled: bool = True
    builtin: bool = False
    created: datetime = msgspec.field(default_factory=utcnow)
    updated: datetime = msgspec.field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1-{MAX_NAME_LENGTH} characters")
        check_text("name", self.name)
        if self.kind not in RULE_KINDS:
            raise ValueError(f"kind {self.kind!r} must be one of {', '.join(sorted(RULE_KINDS))}")
        _check_kind(self)
        _check_between("cooldown_s", self.cooldown_s, 0, WEEK_S)
        if self.sensor_ids and self.source is not None:
            raise ValueError("give sensor_ids or source, not both")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} must be one of road, rail, background")
        for sensor_id in self.sensor_ids:
            if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
                raise ValueError(f"sensor id {sensor_id!r} is not a valid sensor id")
        if self.webhook_url is not None:
            _check_url(self.webhook_url)


def _check_kind(rule: AlertRule) -> None:
    if rule.kind == "level":
        _check_level(rule)
        return
    if rule.metric is not None:
        raise ValueError(f"metric is for level rules only, not {rule.kind}")
    if rule.local_hours is not None or rule.min_duration_s:
        raise ValueError("local_hours and min_duration_s are for laeq and lafmax rules only")
    _check_between("window_s", rule.window_s, 60, WEEK_S if rule.kind == "offline" else DAY_S)
    if rule.kind == "offline" and rule.threshold is not None:
        raise ValueError("offline rules take no threshold: window_s is the silence allowed")
    if rule.kind == "calibration_drift" and rule.threshold is not None:
        raise ValueError("calibration_drift rules take no threshold: the tolerance is 0.5 dB")
    if rule.kind == "stuck":
        _check_number("threshold (tolerance, dB)", rule.threshold or 0.0, 0.0, 10.0)
    if rule.kind == "quarantine_rate":
        if rule.threshold is None:
            raise ValueError("quarantine_rate rules need a threshold (a fraction 0..1)")
        _check_number("threshold (fraction)", rule.threshold, 0.0, 1.0)


def _check_level(rule: AlertRule) -> None:
    if rule.metric not in METRICS:
        raise ValueError("level rules need a metric: laeq, lafmax or lden")
    if rule.threshold is None:
        raise ValueError("level rules need a threshold in dB")
    _check_number("threshold (dB)", rule.threshold, 0.0, 160.0)
    if rule.metric == "lden":
        if rule.window_s != DAY_S:
            raise ValueError("lden rules look at the last local day: window_s must be 86400")
        if rule.local_hours is not None or rule.min_duration_s:
            raise ValueError("lden rules take no local_hours or min_duration_s")
        return
    _check_between("window_s", rule.window_s, 60, DAY_S)
    if rule.window_s % 60:
        raise ValueError(f"window_s {rule.window_s} must be whole minutes")
    _check_between("min_duration_s", rule.min_duration_s, 0, DAY_S)
    if rule.min_duration_s % 60:
        raise ValueError(f"min_duration_s {rule.min_duration_s} must be whole minutes")
    if rule.local_hours is not None:
        start, end = rule.local_hours
        if not (0 <= start <= 23 and 0 <= end <= 23 and start != end):
            raise ValueError(f"local_hours {rule.local_hours}: need two different hours 0-23")


def _check_between(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} {value} must be within {low}..{high}")


def _check_number(name: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} {value} must be within {low:g}..{high:g}")


def check_text(name: str, value: str) -> None:
    """Refuse NUL characters, which PostgreSQL text cannot hold."""
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")


def _check_url(url: str) -> None:
    check_text("webhook_url", url)
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError("webhook_url must not carry credentials (user:password@)")
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook_url {url[:80]!r} must be an http(s) URL")


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One alert of ``rule_id`` on ``sensor_id``. ``value``/``threshold`` in the rule's unit
    (``unit``: dB, s or ratio); ``evidence`` what the evaluator saw when it opened the alert;
    ``last_value`` and ``last_held_at`` the latest check at which the condition held."""

    id: int
    rule_id: int
    rule_name: str
    sensor_id: str
    state: AlertState
    opened_at: datetime
    last_held_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    value: float | None
    last_value: float | None
    threshold: float | None
    unit: str
    evidence: dict[str, Any]


class AlertEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an alert's history: ``actor`` is ``evaluator`` or a key's name,
    ``actor_key_id`` the key's id (``None`` for the evaluator)."""

    id: int
    alert_id: int
    at: datetime
    action: str
    actor: str
    actor_key_id: str | None
    note: str
