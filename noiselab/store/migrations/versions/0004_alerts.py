"""Alert rules, alerts and their history; the built-in health rules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds tables only, and seeds the
three built-in health rules (sensor offline, stuck sensor, quarantine rate), which staff may
then edit or disable.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

BUILTIN_RULES = (
    # name, kind, window_s, threshold, cooldown_s
    ("Sensor offline: no data for 60 min", "offline", 3600, None, 900),
    ("Stuck sensor: the same level for 10 min", "stuck", 600, 0.0, 900),
    ("Quarantine rate above 5 % over 1 h", "quarantine_rate", 3600, 0.05, 900),
)


def upgrade() -> None:
    """Create ``alert_rules``, ``alerts`` (with the unique ``open_key``) and
    ``alert_events``; insert the built-in health rules."""
    rules = op.create_table(
        "alert_rules",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(16), nullable=True),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("sensor_ids", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("local_from", sa.Integer(), nullable=True),
        sa.Column("local_to", sa.Integer(), nullable=True),
        sa.Column("min_duration_s", sa.Integer(), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('level', 'offline', 'stuck', 'quarantine_rate')", name="ck_alert_rules_kind"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("sensor_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open_key", sa.String(100), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="ck_alerts_state"),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rules.id"], name="fk_alerts_rule_id_alert_rules"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("open_key", name="uq_alerts_open_key"),
    )
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_index("ix_alerts_rule_id_sensor_id", "alerts", ["rule_id", "sensor_id"])
    op.create_table(
        "alert_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name="fk_alert_events_alert_id_alerts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    _seed(rules)


def _seed(rules: sa.Table | None) -> None:
    """Insert the built-in health rules, for all sensors, enabled, without a webhook."""
    assert rules is not None
    # SQLite stores naive UTC text (as the application's UtcDateTime does).
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        rules,
        [
            {
                "name": name,
                "kind": kind,
                "metric": None,
                "window_s": window_s,
                "threshold": threshold,
                "sensor_ids": "[]",
                "source": None,
                "local_from": None,
                "local_to": None,
                "min_duration_s": 0,
                "cooldown_s": cooldown_s,
                "webhook_url": None,
                "enabled": True,
                "builtin": True,
                "created": now,
                "updated": now,
            }
            for name, kind, window_s, threshold, cooldown_s in BUILTIN_RULES
        ],
    )


def downgrade() -> None:
    """Drop the alert tables."""
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alerts_rule_id_sensor_id", table_name="alerts")
    op.drop_index("ix_alerts_opened_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
