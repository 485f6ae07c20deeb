"""Alert rules, alerts and their history, in the metadata database.

Three tables on the shared ``METADATA`` (:mod:`noiselab.store.metadata.tables`), holding the
records of :mod:`noiselab.store.metadata.alert_rules`:

- ``alert_rules``: what to watch (see :class:`AlertRule`); the built-in health rules are
  seeded by migration 0004 and flagged ``builtin`` (they may be edited or disabled, not
  deleted).
- ``alerts``: one row per alert. ``open_key`` is ``"{rule_id}:{sensor_id}"`` while the alert is
  open or acknowledged and NULL once resolved; it is UNIQUE, so the database itself keeps one
  unresolved alert per rule and sensor, even with several evaluators racing.
- ``alert_events``: the history: who did what and when (``opened``, ``acknowledged``,
  ``resolved``, ``notified``, ``notify_failed``), with a note.

When the evaluator opens an alert, or resolves one, of a rule with a ``webhook_url``, the
notification is queued in ``webhook_deliveries`` in the same transaction (see
:mod:`noiselab.store.metadata.deliveries`). Each rule has a signing secret
(``webhook_secret``), made when the rule is added and changed only by
:meth:`AlertRepository.rotate_secret`; it is not part of :class:`AlertRule`, so nothing that
shows a rule can show it.

Lifecycle: ``open`` → ``acknowledged`` → ``resolved``, or ``open`` → ``resolved``; anything else
raises :class:`TransitionError`. Times are aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.store.metadata.alert_rules import (
    EVALUATOR,
    MAX_NOTE,
    Alert,
    AlertEvent,
    AlertRule,
    AlertState,
    RuleInUse,
    TransitionError,
    check_text,
)
from noiselab.store.metadata.deliveries import enqueue, new_secret
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import alert_events_table, alert_rules_table, alerts_table

__all__ = ["AlertRepository"]


class AlertRepository:
    """Rules, alerts and history in a metadata database (a ``MetadataStore``). Thread-safe; each
    method is one transaction, durable when it returns."""

    def __init__(self, meta: Database) -> None:
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
        """Store a new rule (its ``id`` is ignored) with a new signing secret; return it with
        its id (the secret: :meth:`webhook_secret`)."""
        row = _rule_to_row(rule)
        row.pop("id")
        row["webhook_secret"] = new_secret()
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

    def webhook_secret(self, rule_id: int) -> str | None:
        """The signing secret of rule ``rule_id`` (``None``: no such rule). For the sender,
        and for the API's answer to the request that made or rotated it, nothing else."""
        table = alert_rules_table
        query = sa.select(table.c.webhook_secret).where(table.c.id == rule_id)
        with translated("read a webhook secret"), self._engine.connect() as connection:
            found = connection.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def rotate_secret(self, rule_id: int, now: datetime) -> str | None:
        """Give rule ``rule_id`` a new signing secret and return it (``None``: no such rule).
        Deliveries sent from now on, queued ones included, are signed with it."""
        table = alert_rules_table
        secret = new_secret()
        statement = (
            sa.update(table).where(table.c.id == rule_id).values(webhook_secret=secret, updated=now)
        )
        with translated("rotate a webhook secret"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        return secret if changed else None

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
        new alert, or ``None`` when another (perhaps another evaluator's) already is open.
        With a ``webhook_url``, its ``opened`` delivery is queued in the same transaction."""
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
            opened = _read_alert(connection, int(new_id))
            if rule.webhook_url and opened is not None:
                enqueue(connection, rule, opened, "opened", now)
        return opened

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
        self,
        alert_id: int,
        *,
        actor: str,
        key_id: str | None,
        note: str,
        now: datetime,
        notify: AlertRule | None = None,
    ) -> Alert | None:
        """Resolve an open or acknowledged alert; ``None`` if there is no such alert. Raises
        :class:`TransitionError` when it is resolved already. With ``notify`` (the alert's
        rule, when it has a ``webhook_url``) the ``resolved`` delivery is queued in the same
        transaction."""
        return self._transition(alert_id, "resolved", actor, key_id, note, now, notify)

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
        notify: AlertRule | None = None,
    ) -> Alert | None:
        if len(note) > MAX_NOTE:
            raise ValueError(f"note must be at most {MAX_NOTE} characters")
        check_text("note", note)
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
            moved = _read_alert(connection, alert_id)
            if notify is not None and notify.webhook_url and moved is not None:
                enqueue(connection, notify, moved, "resolved", now)
        return moved


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
    fields.pop("webhook_secret", None)
    start, end = fields.pop("local_from"), fields.pop("local_to")
    fields["local_hours"] = None if start is None else (start, end)
    fields["sensor_ids"] = tuple(json.loads(fields["sensor_ids"]))
    return AlertRule(**fields)


def _read_alert(connection: Connection, alert_id: int) -> Alert | None:
    row = connection.execute(_alert_query().where(alerts_table.c.id == alert_id)).mappings()
    found = row.first()
    return None if found is None else _alert_from_row(found)


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
