"""The webhook outbox: one ``webhook_deliveries`` row per notification to send.

A row is written in the same transaction as the alert change it tells of (see
:mod:`noiselab.store.metadata.alerts`), so an alert is never opened without its delivery, nor
a delivery queued for an alert that was rolled back. Its ``payload`` is the JSON body, built
then and sent byte for byte at every attempt.

``status``: ``pending`` (to be sent at ``next_attempt_at``), ``delivered``, or ``dead`` (given
up: tries exhausted, or a final answer). A worker *claims* due rows by moving their
``next_attempt_at`` a lease ahead and writing its token into ``claim``, in one statement:
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` on PostgreSQL (concurrent workers
skip each other's rows), the same ``UPDATE`` on SQLite, whose writes are serialised. A worker
that dies mid-send leaves the row pending; it is due again when the lease ends. Results are
written only by the worker whose token the row still holds. Times are aware UTC datetimes.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.model import rfc3339
from noiselab.store.metadata.alert_rules import Alert, AlertRule
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import alert_rules_table, webhook_deliveries_table

__all__ = [
    "DELIVERY_STATES",
    "Claimed",
    "Delivery",
    "DeliveryRepository",
    "DeliveryState",
    "NotDead",
    "enqueue",
    "new_secret",
    "webhook_payload",
]

DeliveryState = Literal["pending", "delivered", "dead"]
DELIVERY_STATES: frozenset[str] = frozenset(get_args(DeliveryState))
MAX_ERROR = 500


class NotDead(ValueError):  # noqa: N818 - reads as the state of the delivery
    """Only a dead delivery can be retried."""


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One outbox row, without its payload: what staff see."""

    id: int
    rule_id: int
    alert_id: int
    event: str
    status: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created: datetime
    updated: datetime
    last_error: str | None


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery a worker holds: the row, the body, and where and how to send it (the rule's
    current ``url`` and signing ``secret``; ``url`` ``None`` when the rule has none now)."""

    delivery: Delivery
    payload: bytes
    url: str | None
    secret: str
    claim: str


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 43 URL-safe characters (256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_payload(rule: AlertRule, alert: Alert, what: str, now: datetime) -> dict[str, Any]:
    """The JSON document POSTed: ``event`` (``alert.opened`` or ``alert.resolved``), a
    ``delivery`` id, when it was queued (``created_at``), the rule and the alert with its
    evidence. Times RFC 3339 UTC."""

    def iso(when: datetime | None) -> str | None:
        return None if when is None else rfc3339(when)

    return {
        "event": f"alert.{what}",
        "delivery": f"{alert.id}-{what}",
        "created_at": iso(now),
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind, "metric": rule.metric},
        "alert": {
            "id": alert.id,
            "sensor_id": alert.sensor_id,
            "state": alert.state,
            "opened_at": iso(alert.opened_at),
            "resolved_at": iso(alert.resolved_at),
            "value": alert.value,
            "threshold": alert.threshold,
            "unit": alert.unit,
            "evidence": alert.evidence,
        },
    }


def enqueue(
    connection: Connection, rule: AlertRule, alert: Alert, what: str, now: datetime
) -> None:
    """Queue ``what`` (``opened``/``resolved``) of ``alert`` for ``rule``'s webhook, due now,
    inside the caller's transaction ``connection``."""
    assert rule.id is not None
    body = json.dumps(webhook_payload(rule, alert, what, now), separators=(",", ":"))
    connection.execute(
        sa.insert(webhook_deliveries_table),
        {
            "rule_id": rule.id,
            "alert_id": alert.id,
            "event": what,
            "payload": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created": now,
            "updated": now,
        },
    )


class DeliveryRepository:
    """The outbox in a metadata database; each method one transaction."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def claim(self, now: datetime, *, lease_s: float, limit: int = 10) -> list[Claimed]:
        """Take up to ``limit`` pending deliveries due at ``now``, oldest due first, for
        ``lease_s`` seconds; another worker's claim on them is skipped."""
        table = webhook_deliveries_table
        token = secrets.token_hex(16)
        due = (
            sa.select(table.c.id)
            .where(table.c.status == "pending", table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        take = (
            sa.update(table)
            .where(
                table.c.id.in_(due.scalar_subquery()),
                table.c.status == "pending",
                table.c.next_attempt_at <= now,
            )
            .values(claim=token, next_attempt_at=now + timedelta(seconds=lease_s), updated=now)
            .returning(table.c.id)
        )
        rules = alert_rules_table
        read = (
            sa.select(table, rules.c.webhook_url, rules.c.webhook_secret)
            .join(rules, rules.c.id == table.c.rule_id)
            .where(table.c.claim == token)
            .order_by(table.c.id)
        )
        with translated("claim webhook deliveries"), self._engine.begin() as connection:
            if not connection.execute(take).all():
                return []
            rows = connection.execute(read).mappings().all()
        return [
            Claimed(
                delivery=_delivery(row),
                payload=str(row["payload"]).encode(),
                url=row["webhook_url"],
                secret=str(row["webhook_secret"]),
                claim=token,
            )
            for row in rows
        ]

    def delivered(self, claimed: Claimed, now: datetime) -> bool:
        """Mark a claimed delivery sent; ``False`` when the claim was lost meanwhile."""
        return self._finish(claimed, now, status="delivered", error=None, next_at=now)

    def retry_later(self, claimed: Claimed, now: datetime, next_at: datetime, error: str) -> bool:
        """Count a failed attempt and make the delivery due again at ``next_at``."""
        return self._finish(claimed, now, status="pending", error=error, next_at=next_at)

    def dead(self, claimed: Claimed, now: datetime, error: str) -> bool:
        """Count a failed attempt and give the delivery up."""
        return self._finish(claimed, now, status="dead", error=error, next_at=now)

    def _finish(
        self,
        claimed: Claimed,
        now: datetime,
        *,
        status: DeliveryState,
        error: str | None,
        next_at: datetime,
    ) -> bool:
        table = webhook_deliveries_table
        statement = (
            sa.update(table)
            .where(table.c.id == claimed.delivery.id, table.c.claim == claimed.claim)
            .values(
                status=status,
                attempts=table.c.attempts + 1,
                next_attempt_at=next_at,
                claim=None,
                updated=now,
                last_error=None if error is None else error[:MAX_ERROR],
            )
        )
        with translated("record a webhook delivery"), self._engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)

    def get(self, delivery_id: int) -> Delivery | None:
        """One delivery or ``None``."""
        query = sa.select(webhook_deliveries_table).where(
            webhook_deliveries_table.c.id == delivery_id
        )
        with translated("read a webhook delivery"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _delivery(row)

    def list(
        self,
        *,
        status: DeliveryState | None = None,
        alert_id: int | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Deliveries newest first, optionally of one ``status`` or ``alert_id``."""
        table = webhook_deliveries_table
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(table.c.status == status)
        if alert_id is not None:
            query = query.where(table.c.alert_id == alert_id)
        with translated("list webhook deliveries"), self._engine.connect() as connection:
            return [_delivery(row) for row in connection.execute(query).mappings()]

    def retry(self, delivery_id: int, now: datetime) -> Delivery | None:
        """Make a dead delivery pending again, due now, with a fresh count of tries;
        ``None`` when there is no such delivery, :class:`NotDead` unless it is dead."""
        table = webhook_deliveries_table
        statement = (
            sa.update(table)
            .where(table.c.id == delivery_id, table.c.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now, claim=None, updated=now)
        )
        with translated("retry a webhook delivery"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        found = self.get(delivery_id)
        if found is not None and not changed:
            raise NotDead(f"delivery {delivery_id} is {found.status}: only dead ones are retried")
        return found


def _delivery(row: sa.RowMapping) -> Delivery:
    fields = {name: row[name] for name in Delivery.__struct_fields__}
    return Delivery(**fields)
