"""Alert rules, alerts and their history, in the metadata database.

Three tables on the shared ``METADATA``:

- ``alert_rules``: what to watch (see :class:`AlertRule`); the built-in health rules are
  seeded by migration 0004 and flagged ``builtin`` (they may be edited or disabled, not
  deleted).
- ``alerts``: one row per alert. ``open_key`` is ``"{rule_id}:{sensor_id}"`` while the alert is
  open or acknowledged and NULL once resolved; it is UNIQUE, so the database itself keeps one
  unresolved alert per rule and sensor, even with several evaluators racing.
- ``alert_events``: the history: who did what and when (``opened``, ``acknowledged``,
  ``resolved``, ``notified``, ``notify_failed``), with a note.

Lifecycle: ``open`` → ``acknowledged`` → ``resolved``, or ``open`` → ``resolved``; anything else
raises :class:`TransitionError`. Times are aware UTC datetimes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.errors import NoiselabError
from noiselab.store.metadata import (
    METADATA,
    SENSOR_ID_PATTERN,
    SOURCES,
    MetadataStore,
    SensorSource,
    UtcDateTime,
    translated,
)

__all__ = [
    "ALERT_STATES",
    "EVALUATOR",
    "RULE_KINDS",
    "Alert",
    "AlertEvent",
    "AlertRepository",
    "AlertRule",
    "AlertState",
    "Metric",
    "RuleInUse",
    "RuleKind",
    "TransitionError",
]

RuleKind = Literal["level", "offline", "stuck", "quarantine_rate"]
"""``level``: a dB threshold on ``metric``; the others are the health rules."""
RULE_KINDS: frozenset[str] = frozenset(get_args(RuleKind))
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
MAX_NAME = 200
MAX_NOTE = 2000
MAX_URL = 2000


def _utcnow() -> datetime:
    return datetime.now(UTC)


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

    Sensors: ``sensor_ids``, else every sensor of ``source``, else all registered sensors.
    ``cooldown_s``: an alert resolves itself once the condition has been clear that long, and
    after a manual resolution no new alert opens for that long. ``webhook_url``: POSTed JSON
    when an alert of this rule opens or resolves itself.
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
    created: datetime = msgspec.field(default_factory=_utcnow)
    updated: datetime = msgspec.field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise ValueError(f"name must be 1-{MAX_NAME} characters")
        _check_text("name", self.name)
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


def _check_text(name: str, value: str) -> None:
    """Refuse NUL characters, which PostgreSQL text cannot hold."""
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")


def _check_url(url: str) -> None:
    _check_text("webhook_url", url)
    parts = urlsplit(url)
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


# --------------------------------------------------------------------------- schema

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

alert_rules_table = sa.Table(
    "alert_rules",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("metric", sa.String(16), nullable=True),
    sa.Column("window_s", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("sensor_ids", sa.Text, nullable=False),  # a JSON array of sensor ids
    sa.Column("source", sa.String(16), nullable=True),
    sa.Column("local_from", sa.Integer, nullable=True),
    sa.Column("local_to", sa.Integer, nullable=True),
    sa.Column("min_duration_s", sa.Integer, nullable=False),
    sa.Column("cooldown_s", sa.Integer, nullable=False),
    sa.Column("webhook_url", sa.Text, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("builtin", sa.Boolean, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("updated", UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('level', 'offline', 'stuck', 'quarantine_rate')", name="kind"),
)

alerts_table = sa.Table(
    "alerts",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("rule_id", _ID, sa.ForeignKey("alert_rules.id"), nullable=False),
    sa.Column("sensor_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("open_key", sa.String(100), nullable=True, unique=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("last_held_at", UtcDateTime, nullable=False),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("last_value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # a JSON object
    sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="state"),
    sa.Index(None, "opened_at"),
    sa.Index(None, "rule_id", "sensor_id"),
)

alert_events_table = sa.Table(
    "alert_events",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", _ID, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(MAX_NAME), nullable=False),
    sa.Column("actor_key_id", sa.String(32), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Index(None, "alert_id"),
)


# --------------------------------------------------------------------------- repository


class AlertRepository:
    """Rules, alerts and history in a :class:`MetadataStore`'s database. Thread-safe; each
    method is one transaction, durable when it returns."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta
        self._engine = meta.engine

    # -- rules

    def list_rules(self, *, enabled_only: bool = False) -> list[AlertRule]:
        """All rules ordered by id (only the enabled ones with ``enabled_only``)."""
        query = sa.select(alert_rules_table).order_by(alert_rules_table.c.id)
        if enabled_only:
            query = query.where(alert_rules_table.c.enabled.is_(True))
        with translated("list alert rules"), self._engine.connect() as connection:
            return [_rule_from_row(row) for row in connection.execute(query).mappings()]

    def get_rule(self, rule_id: int) -> AlertRule | None:
        """The rule ``rule_id`` or ``None``."""
        query = sa.select(alert_rules_table).where(alert_rules_table.c.id == rule_id)
        with translated("read an alert rule"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _rule_from_row(row)

    def add_rule(self, rule: AlertRule) -> AlertRule:
        """Store a new rule (its ``id`` is ignored); return it with its id."""
        row = _rule_to_row(rule)
        row.pop("id")
        statement = sa.insert(alert_rules_table).returning(alert_rules_table.c.id)
        with translated("add an alert rule"), self._engine.begin() as connection:
            new_id = int(connection.execute(statement, row).scalar_one())
        return msgspec.structs.replace(rule, id=new_id)

    def replace_rule(self, rule_id: int, rule: AlertRule, now: datetime) -> AlertRule | None:
        """Replace rule ``rule_id`` by ``rule`` (keeping its id, creation time and built-in
        flag); ``None`` when there is no such rule. A built-in rule keeps its kind."""
        table = alert_rules_table
        with translated("update an alert rule"), self._engine.begin() as connection:
            old = connection.execute(sa.select(table).where(table.c.id == rule_id)).mappings()
            found = old.first()
            if found is None:
                return None
            current = _rule_from_row(found)
            if current.builtin and rule.kind != current.kind:
                raise RuleInUse(f"rule {rule_id} is built in: its kind stays {current.kind}")
            new = msgspec.structs.replace(
                rule, id=rule_id, builtin=current.builtin, created=current.created, updated=now
            )
            row = _rule_to_row(new)
            connection.execute(sa.update(table).where(table.c.id == rule_id).values(**row))
        return new

    def delete_rule(self, rule_id: int) -> bool:
        """Delete a rule; ``False`` when there is none. A built-in rule, or one that alerts
        refer to, raises :class:`RuleInUse` (disable it instead)."""
        table = alert_rules_table
        with translated("delete an alert rule"), self._engine.begin() as connection:
            builtin = connection.execute(
                sa.select(table.c.builtin).where(table.c.id == rule_id)
            ).first()
            if builtin is None:
                return False
            if builtin[0]:
                raise RuleInUse(f"rule {rule_id} is built in: disable it (enabled=false)")
            used = connection.execute(
                sa.select(sa.func.count())
                .select_from(alerts_table)
                .where(alerts_table.c.rule_id == rule_id)
            ).scalar_one()
            if used:
                raise RuleInUse(
                    f"rule {rule_id} has {used} alerts in the history: disable it (enabled=false)"
                )
            connection.execute(sa.delete(table).where(table.c.id == rule_id))
        return True

    # -- what the evaluator does

    def open_alert(self, rule_id: int, sensor_id: str) -> Alert | None:
        """The unresolved (open or acknowledged) alert of ``rule_id`` on ``sensor_id``."""
        query = _alert_query().where(alerts_table.c.open_key == _open_key(rule_id, sensor_id))
        with translated("read an open alert"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _alert_from_row(row)

    def last_resolved(self, rule_id: int, sensor_id: str) -> datetime | None:
        """When the latest alert of ``rule_id`` on ``sensor_id`` was resolved, if ever."""
        query = sa.select(sa.func.max(alerts_table.c.resolved_at)).where(
            alerts_table.c.rule_id == rule_id, alerts_table.c.sensor_id == sensor_id
        )
        with translated("read resolved alerts"), self._engine.connect() as connection:
            value = connection.execute(query).scalar_one_or_none()
        return _aware(value)

    def open_new(
        self,
        rule: AlertRule,
        sensor_id: str,
        *,
        now: datetime,
        value: float | None,
        unit: str,
        evidence: Mapping[str, Any],
    ) -> Alert | None:
        """Open an alert of ``rule`` on ``sensor_id`` unless one is unresolved; return the
        new alert, or ``None`` when another (perhaps another evaluator's) already is open."""
        assert rule.id is not None
        insert = self._meta.dialect_insert(alerts_table).on_conflict_do_nothing(
            index_elements=["open_key"]
        )
        row = {
            "rule_id": rule.id,
            "sensor_id": sensor_id,
            "state": "open",
            "open_key": _open_key(rule.id, sensor_id),
            "opened_at": now,
            "last_held_at": now,
            "value": value,
            "last_value": value,
            "threshold": rule.threshold,
            "unit": unit,
            "evidence": json.dumps(evidence, sort_keys=True),
        }
        with translated("open an alert"), self._engine.begin() as connection:
            new_id = connection.execute(insert.returning(alerts_table.c.id), row).scalar()
            if new_id is None:
                return None
            _add_event(connection, int(new_id), now, "opened", EVALUATOR, None, _opened_note(rule))
        return self.get_alert(int(new_id))

    def still_holds(self, alert_id: int, *, now: datetime, value: float | None) -> None:
        """Record that an unresolved alert's condition held at ``now`` with ``value``."""
        statement = (
            sa.update(alerts_table)
            .where(alerts_table.c.id == alert_id, alerts_table.c.open_key.is_not(None))
            .values(last_held_at=now, last_value=value)
        )
        with translated("update an alert"), self._engine.begin() as connection:
            connection.execute(statement)

    # -- the lifecycle

    def get_alert(self, alert_id: int) -> Alert | None:
        """The alert ``alert_id`` or ``None``."""
        query = _alert_query().where(alerts_table.c.id == alert_id)
        with translated("read an alert"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _alert_from_row(row)

    def list_alerts(
        self,
        *,
        state: AlertState | None = None,
        sensor_id: str | None = None,
        rule_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Alerts newest first. ``start``/``end`` keep alerts active at some time in
        ``[start, end)``: opened before ``end`` and not resolved before ``start``."""
        table = alerts_table
        query = _alert_query().order_by(table.c.opened_at.desc(), table.c.id.desc())
        if state is not None:
            query = query.where(table.c.state == state)
        if sensor_id is not None:
            query = query.where(table.c.sensor_id == sensor_id)
        if rule_id is not None:
            query = query.where(table.c.rule_id == rule_id)
        if end is not None:
            query = query.where(table.c.opened_at < end)
        if start is not None:
            query = query.where(sa.or_(table.c.resolved_at.is_(None), table.c.resolved_at >= start))
        with translated("list alerts"), self._engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [_alert_from_row(row) for row in rows]

    def unresolved_counts(self) -> dict[str, int]:
        """Open or acknowledged alerts per sensor (sensors without any are absent)."""
        table = alerts_table
        query = (
            sa.select(table.c.sensor_id, sa.func.count())
            .where(table.c.open_key.is_not(None))
            .group_by(table.c.sensor_id)
        )
        with translated("count open alerts"), self._engine.connect() as connection:
            return {sid: int(count) for sid, count in connection.execute(query).all()}

    def history(self, alert_id: int) -> list[AlertEvent]:
        """What happened to alert ``alert_id``, oldest first."""
        table = alert_events_table
        query = sa.select(table).where(table.c.alert_id == alert_id).order_by(table.c.id)
        with translated("read alert history"), self._engine.connect() as connection:
            return [_event_from_row(row) for row in connection.execute(query).mappings()]

    def acknowledge(
        self, alert_id: int, *, actor: str, key_id: str | None, note: str, now: datetime
    ) -> Alert | None:
        """Move an open alert to ``acknowledged``; ``None`` if there is no such alert.
        Raises :class:`TransitionError` unless it is open."""
        return self._transition(alert_id, "acknowledged", actor, key_id, note, now)

    def resolve(
        self, alert_id: int, *, actor: str, key_id: str | None, note: str, now: datetime
    ) -> Alert | None:
        """Resolve an open or acknowledged alert; ``None`` if there is no such alert. Raises
        :class:`TransitionError` when it is resolved already."""
        return self._transition(alert_id, "resolved", actor, key_id, note, now)

    def record(self, alert_id: int, *, action: str, note: str, now: datetime) -> None:
        """Add a line by the evaluator to an alert's history (a webhook outcome)."""
        with translated("record alert history"), self._engine.begin() as connection:
            _add_event(connection, alert_id, now, action, EVALUATOR, None, note)

    def _transition(  # noqa: PLR0917 - the two public methods name them
        self,
        alert_id: int,
        target: AlertState,
        actor: str,
        key_id: str | None,
        note: str,
        now: datetime,
    ) -> Alert | None:
        if len(note) > MAX_NOTE:
            raise ValueError(f"note must be at most {MAX_NOTE} characters")
        _check_text("note", note)
        table = alerts_table
        allowed = ("open",) if target == "acknowledged" else ("open", "acknowledged")
        values: dict[str, Any] = {"state": target}
        if target == "acknowledged":
            values["acknowledged_at"] = now
        else:
            values |= {"resolved_at": now, "open_key": None}
        with translated(f"move an alert to {target}"), self._engine.begin() as connection:
            state = connection.execute(
                sa.select(table.c.state).where(table.c.id == alert_id)
            ).scalar_one_or_none()
            if state is None:
                return None
            changed = connection.execute(
                sa.update(table)
                .where(table.c.id == alert_id, table.c.state.in_(allowed))
                .values(**values)
            ).rowcount
            if not changed:
                verb = "acknowledge" if target == "acknowledged" else "resolve"
                raise TransitionError(f"alert {alert_id} is {state}: cannot {verb} it")
            _add_event(connection, alert_id, now, target, actor, key_id, note)
        return self.get_alert(alert_id)


def _open_key(rule_id: int, sensor_id: str) -> str:
    return f"{rule_id}:{sensor_id}"


def _opened_note(rule: AlertRule) -> str:
    return f"rule {rule.name!r} holds"


def _add_event(  # noqa: PLR0917 - one row's columns
    connection: Connection,
    alert_id: int,
    now: datetime,
    action: str,
    actor: str,
    key_id: str | None,
    note: str,
) -> None:
    connection.execute(
        sa.insert(alert_events_table),
        {
            "alert_id": alert_id,
            "at": now,
            "action": action,
            "actor": actor,
            "actor_key_id": key_id,
            "note": note,
        },
    )


def _aware(value: object) -> datetime | None:
    """An aggregate's datetime: SQLite hands back text for ``max()`` of a column."""
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _rule_to_row(rule: AlertRule) -> dict[str, Any]:
    row = msgspec.structs.asdict(rule)
    hours = row.pop("local_hours")
    row["local_from"], row["local_to"] = hours if hours is not None else (None, None)
    row["sensor_ids"] = json.dumps(list(rule.sensor_ids))
    return row


def _rule_from_row(row: sa.RowMapping) -> AlertRule:
    fields = dict(row)
    start, end = fields.pop("local_from"), fields.pop("local_to")
    fields["local_hours"] = None if start is None else (start, end)
    fields["sensor_ids"] = tuple(json.loads(fields["sensor_ids"]))
    return AlertRule(**fields)


def _alert_query() -> sa.Select[Any]:
    return sa.select(alerts_table, alert_rules_table.c.name.label("rule_name")).join(
        alert_rules_table, alerts_table.c.rule_id == alert_rules_table.c.id
    )


def _alert_from_row(row: sa.RowMapping) -> Alert:
    fields = dict(row)
    fields.pop("open_key")
    fields["evidence"] = json.loads(fields["evidence"])
    return Alert(**fields)


def _event_from_row(row: sa.RowMapping) -> AlertEvent:
    return AlertEvent(**dict(row))


def cooldown_over(resolved_at: datetime | None, cooldown_s: int, now: datetime) -> bool:
    """Whether ``cooldown_s`` has passed since ``resolved_at`` (or nothing was resolved)."""
    return resolved_at is None or now - resolved_at >= timedelta(seconds=cooldown_s)
