"""The calibration log; the built-in calibration-drift alert rule.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-05

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions.

- ``calibrations``: one row per field calibration or calibrator-tone check of a sensor
  (levels in dB, who, when), append-only: a withdrawal fills the ``withdrawn_*`` columns and
  ``withdraw_reason`` of the same row. ``repeat_key`` (unique, NULL for field calibrations)
  keeps a re-delivered tone check to one row.
- ``alert_rules.kind`` also allows ``calibration_drift``. 0004 gave the constraint the full name
  ``ck_alert_rules_kind``, which the naming convention doubled; it is replaced here by the name
  the table definitions give (``ck_alert_rules_kind``), and the downgrade puts 0004's back.
  SQLite cannot copy ``alert_rules`` here (batch mode): alerts and webhook deliveries refer to
  it and the foreign keys are enforced, so dropping the old table would fail once an alert
  exists. It edits the constraint in the stored table definition instead, the procedure
  SQLite documents for changing CHECK constraints (lang_altertable.html, "Making Other Kinds
  Of Table Schema Changes"), inside the migration's transaction; the rows are untouched and
  satisfy both versions.
- One built-in rule of that kind, for all sensors, enabled, without a webhook (with a fresh
  signing secret, which staff rotate to learn).

All new constraint names are given final (``op.f()``). The downgrade deletes the built-in
rule's alerts (with their history and queued webhooks) and the rule, narrows the check again
and drops ``calibrations``, and with it the log.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KINDS_BEFORE = "kind IN ('level', 'offline', 'stuck', 'quarantine_rate')"
_KINDS = "kind IN ('level', 'offline', 'stuck', 'quarantine_rate', 'calibration_drift')"
RULE_NAME = "Calibration drift above 0.5 dB"


def upgrade() -> None:
    """Create ``calibrations``, widen the rule kinds, seed the drift rule."""
    op.create_table(
        "calibrations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sensor_id", sa.String(64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reference_db", sa.Float(), nullable=False),
        sa.Column("before_db", sa.Float(), nullable=False),
        sa.Column("after_db", sa.Float(), nullable=True),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by_key", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("repeat_key", sa.String(100), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('field', 'tone')", name=op.f("ck_calibrations_kind")),
        sa.CheckConstraint(
            "kind = 'field' OR after_db IS NULL", name=op.f("ck_calibrations_tone_adjusts_nothing")
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_calibrations_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibrations")),
        sa.UniqueConstraint("repeat_key", name=op.f("uq_calibrations_repeat_key")),
    )
    op.create_index(op.f("ix_calibrations_sensor_id_ts"), "calibrations", ["sensor_id", "ts"])
    _replace_kind_check(
        ("ck_alert_rules_ck_alert_rules_kind", _KINDS_BEFORE), ("ck_alert_rules_kind", _KINDS)
    )
    _seed()


def _replace_kind_check(old: tuple[str, str], new: tuple[str, str]) -> None:
    """Replace the CHECK constraint ``old`` (name, expression) of ``alert_rules`` by ``new``."""
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(old[0]), "alert_rules", type_="check")
        op.create_check_constraint(op.f(new[0]), "alert_rules", new[1])
        return
    bind = op.get_bind()
    found = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'alert_rules'"
    ).scalar_one()
    before = f"CONSTRAINT {old[0]} CHECK ({old[1]})"
    if str(found).count(before) != 1:
        raise RuntimeError(f"alert_rules: expected the constraint {before!r} in {found!r}")
    table_sql = str(found).replace(before, f"CONSTRAINT {new[0]} CHECK ({new[1]})")
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one())
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'alert_rules'",
            (table_sql,),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _seed() -> None:
    """Insert the built-in drift rule (SQLite stores naive UTC text, as UtcDateTime does)."""
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rules = sa.table("alert_rules", *(sa.column(name) for name in _RULE))
    secret = "whsec_" + secrets.token_urlsafe(32)  # nobody has seen it: staff rotate it
    op.execute(
        sa.insert(rules).values(_RULE | {"created": now, "updated": now, "webhook_secret": secret})
    )


_RULE: dict[str, object] = {
    "name": RULE_NAME,
    "kind": "calibration_drift",
    "metric": None,
    "window_s": 86_400,
    "threshold": None,
    "sensor_ids": "[]",
    "source": None,
    "local_from": None,
    "local_to": None,
    "min_duration_s": 0,
    "cooldown_s": 0,
    "webhook_url": None,
    "webhook_secret": "",
    "enabled": True,
    "builtin": True,
    "created": None,
    "updated": None,
}


def downgrade() -> None:
    """Remove the drift rules and their alerts, narrow the kinds, drop ``calibrations``."""
    drift_rules: sa.Select[int] = (
        sa.select(sa.column("id", sa.Integer))
        .select_from(sa.table("alert_rules"))
        .where(sa.column("kind") == "calibration_drift")
    )
    drift_alerts: sa.Select[int] = (
        sa.select(sa.column("id", sa.Integer))
        .select_from(sa.table("alerts"))
        .where(sa.column("rule_id").in_(drift_rules))
    )
    op.execute(
        sa.delete(sa.table("webhook_deliveries")).where(sa.column("rule_id").in_(drift_rules))
    )
    op.execute(sa.delete(sa.table("alert_events")).where(sa.column("alert_id").in_(drift_alerts)))
    op.execute(sa.delete(sa.table("alerts")).where(sa.column("rule_id").in_(drift_rules)))
    op.execute(sa.delete(sa.table("alert_rules")).where(sa.column("kind") == "calibration_drift"))
    _replace_kind_check(
        ("ck_alert_rules_kind", _KINDS), ("ck_alert_rules_ck_alert_rules_kind", _KINDS_BEFORE)
    )
    op.drop_index(op.f("ix_calibrations_sensor_id_ts"), table_name="calibrations")
    op.drop_table("calibrations")
