"""Request and response models of the staff endpoints: alert rules, alerts, the quarantine
and sensor health.

List endpoints answer flat JSON arrays of flat rows (Grafana Infinity reads them as tables):
times RFC 3339 UTC with ``Z``, levels in dB rounded to 0.01, fractions to 0.0001.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from noiselab.api.schemas.base import Out, UtcTime
from noiselab.api.schemas.sensors import SensorStatus
from noiselab.model import SensorSource
from noiselab.store.metadata import AlertState, DeliveryState, Metric, RuleKind

__all__ = [
    "AlertDetailOut",
    "AlertEventOut",
    "AlertOut",
    "DeliveryOut",
    "NoteIn",
    "QuarantineDetailOut",
    "QuarantineOut",
    "RuleCreatedOut",
    "RuleIn",
    "RuleOut",
    "SecretOut",
    "SensorHealthOut",
]

_RULE_EXAMPLE: dict[str, Any] = {
    "name": "Night LAeq,1h above 55 dB at the motorway",
    "kind": "level",
    "metric": "laeq",
    "window_s": 3600,
    "threshold": 55.0,
    "sensor_ids": [],
    "source": "road",
    "local_hours": [22, 7],
    "min_duration_s": 600,
    "cooldown_s": 1800,
    "webhook_url": "https://hooks.example.org/noise",
    "enabled": True,
}

_ALERT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "rule_id": 4,
    "rule_name": "Night LAeq,1h above 55 dB at the motorway",
    "sensor_id": "kbm-25m",
    "state": "open",
    "opened_at": "2026-03-02T23:10:00Z",
    "last_held_at": "2026-03-02T23:42:00Z",
    "acknowledged_at": None,
    "resolved_at": None,
    "value": 57.31,
    "last_value": 56.8,
    "threshold": 55.0,
    "unit": "dB",
    "value_db": 57.31,
    "threshold_db": 55.0,
    "open_s": 1920.0,
    "evidence": {
        "metric": "laeq",
        "window_s": 3600,
        "window_start": "2026-03-02T22:10:00Z",
        "window_end": "2026-03-02T23:10:00Z",
        "value_db": 57.31,
        "threshold_db": 55.0,
    },
}


_QUARANTINE_EXAMPLE: dict[str, Any] = {
    "id": 901,
    "topic": "noiselab/kbm-25m/levels",
    "sensor_id": "kbm-25m",
    "reason": "laeq: 171.2 is outside 0-160 dB",
    "received_at": "2026-03-02T23:10:04Z",
    "index": 3,
    "raw": '{"ts": 1772492400, "laeq": 171.2}',
    "raw_bytes": 33,
    "raw_truncated": False,
}


class RuleIn(BaseModel):
    """An alert rule to create or replace (see ``docs/alerts.md`` for each kind).

    ``level`` rules: ``metric`` (``laeq`` over ``window_s``, ``lafmax`` over ``window_s``, or
    ``lden`` of the last local day with ``window_s`` 86400) above ``threshold`` dB, optionally
    only in ``local_hours`` ``[from, to)`` Europe/Copenhagen (``[22, 7]`` = night) and only
    once held for ``min_duration_s``. Health rules: ``offline`` (no data for ``window_s``),
    ``stuck`` (level within ``threshold`` dB for ``window_s``), ``quarantine_rate``
    (rejected share above ``threshold`` over ``window_s``). Sensors: ``sensor_ids``, else all
    of ``source``, else all.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_RULE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind = "level"
    metric: Metric | None = None
    window_s: int = Field(default=900, description="Window or duration, seconds.")
    threshold: float | None = Field(
        default=None, description="dB (level), tolerance dB (stuck), fraction (quarantine_rate)."
    )
    sensor_ids: list[str] = Field(default_factory=list, max_length=1000)
    source: SensorSource | None = None
    local_hours: tuple[int, int] | None = Field(
        default=None,
        description="Local hours [from, to) the rule applies in; from > to crosses midnight.",
    )
    min_duration_s: int = Field(default=0, description="Whole minutes the condition must hold.")
    cooldown_s: int = Field(
        default=900,
        description="Clear this long before resolving itself; quiet time after a resolution.",
    )
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="http(s) URL the alert's JSON is POSTed to, signed with the rule's secret. "
        "No credentials; internal addresses (loopback, private, link-local...) are refused "
        "unless the operator allows them (NOISELAB_WEBHOOK_ALLOW).",
    )
    enabled: bool = True


_STORED_RULE_EXAMPLE = _RULE_EXAMPLE | {
    "id": 4,
    "builtin": False,
    "created": "2026-03-01T09:00:00Z",
    "updated": "2026-03-01T09:00:00Z",
}


class RuleOut(Out):
    """A stored alert rule."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [_STORED_RULE_EXAMPLE]},
    )

    id: int
    name: str
    kind: RuleKind
    metric: Metric | None
    window_s: int
    threshold: float | None
    sensor_ids: list[str]
    source: SensorSource | None
    local_hours: tuple[int, int] | None
    min_duration_s: int
    cooldown_s: int
    webhook_url: str | None
    enabled: bool
    builtin: bool = Field(description="A built-in health rule: editable, not deletable.")
    created: UtcTime
    updated: UtcTime


_SECRET = "whsec_3q2-7wEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE0"  # noqa: S105 - an example


class RuleCreatedOut(RuleOut):
    """A new rule with its webhook signing secret: shown this once, never again."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [_STORED_RULE_EXAMPLE | {"webhook_secret": _SECRET}]},
    )

    webhook_secret: str = Field(
        description="Signs every webhook of this rule (X-Noiselab-Signature). Shown only "
        "in this answer: store it with the receiver; rotate it if lost."
    )


class SecretOut(Out):
    """A rule's new signing secret, shown this once."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [{"rule_id": 4, "webhook_secret": _SECRET}]},
    )

    rule_id: int
    webhook_secret: str


class DeliveryOut(Out):
    """One webhook delivery of the outbox (its body and the secret are not shown)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": 88,
                    "rule_id": 4,
                    "alert_id": 12,
                    "event": "opened",
                    "status": "pending",
                    "attempts": 2,
                    "next_attempt_at": "2026-03-02T23:12:05Z",
                    "created": "2026-03-02T23:10:00Z",
                    "updated": "2026-03-02T23:11:05Z",
                    "last_error": "POST https://hooks.example.org:443: HTTP 503",
                }
            ]
        },
    )

    id: int
    rule_id: int
    alert_id: int
    event: Literal["opened", "resolved"]
    status: DeliveryState = Field(description="pending, delivered or dead (given up).")
    attempts: int = Field(description="Tries made so far.")
    next_attempt_at: UtcTime = Field(description="When a pending delivery is tried next.")
    created: UtcTime
    updated: UtcTime
    last_error: str | None = Field(description="What the latest failed try got.")


class AlertOut(Out):
    """An alert as one flat row; ``evidence`` is what the evaluator saw when it opened it."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_ALERT_EXAMPLE]}
    )

    id: int
    rule_id: int
    rule_name: str
    sensor_id: str
    state: AlertState
    opened_at: UtcTime
    last_held_at: UtcTime = Field(description="The latest check at which the condition held.")
    acknowledged_at: UtcTime | None
    resolved_at: UtcTime | None
    value: float | None = Field(description="The value judged when opened, in `unit`.")
    last_value: float | None = Field(description="The value at `last_held_at`, in `unit`.")
    threshold: float | None
    unit: Literal["dB", "s", "ratio"]
    value_db: float | None = Field(description="`value` when the unit is dB, else null.")
    threshold_db: float | None = Field(description="`threshold` when the unit is dB, else null.")
    open_s: float = Field(description="Seconds from opening to resolution (or to now).")
    evidence: dict[str, Any]


class AlertEventOut(Out):
    """One line of an alert's history."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": 31,
                    "alert_id": 12,
                    "at": "2026-03-03T07:45:00Z",
                    "action": "acknowledged",
                    "actor": "kommune-miljø",
                    "actor_key_id": "3f9c1a7b2d4e6f80",
                    "note": "Road works on Holbækmotorvejen tonight",
                }
            ]
        },
    )

    id: int
    alert_id: int
    at: UtcTime
    action: str = Field(description="opened, acknowledged, resolved, notified, notify_failed.")
    actor: str = Field(description="`evaluator`, or the name of the key that acted.")
    actor_key_id: str | None
    note: str


class AlertDetailOut(AlertOut):
    """An alert with its history, oldest first."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                _ALERT_EXAMPLE
                | {
                    "history": [
                        {
                            "id": 30,
                            "alert_id": 12,
                            "at": "2026-03-02T23:10:00Z",
                            "action": "opened",
                            "actor": "evaluator",
                            "actor_key_id": None,
                            "note": "rule 'Night LAeq,1h above 55 dB at the motorway' holds",
                        }
                    ]
                }
            ]
        },
    )

    history: list[AlertEventOut]


class NoteIn(BaseModel):
    """A note to go with an acknowledgement or a resolution."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "Road works on Holbækmotorvejen tonight"}]},
    )

    note: str = Field(default="", max_length=2000)


class QuarantineOut(Out):
    """A rejected reading as one flat row; ``raw`` as UTF-8 text (bad bytes replaced),
    cut to 1000 characters in lists (``raw_truncated``)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_QUARANTINE_EXAMPLE]}
    )

    id: int
    topic: str
    sensor_id: str | None
    reason: str
    received_at: UtcTime
    index: int | None = Field(description="Position in a batch; null for a single reading.")
    raw: str
    raw_bytes: int
    raw_truncated: bool


class QuarantineDetailOut(QuarantineOut):
    """One rejected reading with its raw payload in full, also as base64 (exact bytes)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                _QUARANTINE_EXAMPLE | {"raw_base64": "eyJ0cyI6IDE3NzI0OTI0MDAsICJsYWVxIjogMTcxLjJ9"}
            ]
        },
    )

    raw_base64: str


class SensorHealthOut(Out):
    """One sensor's health as one flat row."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sensor_id": "kbm-25m",
                    "name": "Køge Bugt Motorvejen 25 m",
                    "source": "road",
                    "public": True,
                    "status": "online",
                    "last_seen": "2026-03-03T09:14:59Z",
                    "last_received": "2026-03-03T09:15:00Z",
                    "silent_s": 2.1,
                    "coverage_today": 0.9981,
                    "measured_s_today": 33231.0,
                    "quarantined_today": 4,
                    "quarantined_24h": 6,
                    "open_alerts": 1,
                }
            ]
        },
    )

    sensor_id: str
    name: str
    source: SensorSource | None
    public: bool
    status: SensorStatus
    last_seen: UtcTime | None = Field(description="End of the latest reading; null: never.")
    last_received: UtcTime | None = Field(description="When the latest data arrived.")
    silent_s: float | None = Field(description="Seconds since data last arrived.")
    coverage_today: float = Field(
        description="Measured seconds since local midnight over elapsed seconds."
    )
    measured_s_today: float
    quarantined_today: int = Field(description="Rejections received since local midnight.")
    quarantined_24h: int
    open_alerts: int = Field(description="Open or acknowledged alerts.")
