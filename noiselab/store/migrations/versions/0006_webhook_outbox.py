"""Signed webhooks and their durable outbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions.

- ``alert_rules.webhook_secret``: each rule's signing secret. Existing rules get a fresh random
  one (nobody has seen it: staff rotate it to learn it). Credentials in existing webhook URLs
  (``user:password@``), which the URL policy now refuses, are removed from them.
- ``webhook_deliveries``: one row per notification to send, its status, tries and next try.

SQLite makes the new column NOT NULL (and the downgrade drops it) by copying ``alert_rules``
(batch mode) and dropping the old table. Its foreign keys are enforced (the connections switch
them on, and a transaction cannot switch them off), so that drop would delete every rule first,
which the alerts referring to them refuse. The rows of the tables that refer to the rules are
therefore held in temporary tables during the copy and put back unchanged, ids included, in the
same transaction (:func:`_referrers_set_aside`); the resulting schema is the batch's, as before.

All constraint names are given final (``op.f()``), as the naming convention of the table
definitions would make them. The downgrade drops both (queued deliveries are lost; the
credentials removed from URLs do not come back).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The tables that refer to alert_rules at this revision: alerts, and alert_events through it.
# Emptied history first, put back alerts first. CREATE TABLE AS gives each column the affinity
# of the original one, so every value is copied as it was stored.
_SET_ASIDE = (
    "CREATE TEMP TABLE _0006_alert_events AS SELECT * FROM main.alert_events",
    "DELETE FROM main.alert_events",
    "CREATE TEMP TABLE _0006_alerts AS SELECT * FROM main.alerts",
    "DELETE FROM main.alerts",
)
_PUT_BACK = (
    "INSERT INTO main.alerts SELECT * FROM temp._0006_alerts",
    "DROP TABLE temp._0006_alerts",
    "INSERT INTO main.alert_events SELECT * FROM temp._0006_alert_events",
    "DROP TABLE temp._0006_alert_events",
)


def upgrade() -> None:
    """Add the secrets (filled), strip URL credentials, create the outbox."""
    op.add_column("alert_rules", sa.Column("webhook_secret", sa.String(64), nullable=True))
    _fill_secrets()
    with _referrers_set_aside(), op.batch_alter_table("alert_rules") as batch:
        batch.alter_column("webhook_secret", existing_type=sa.String(64), nullable=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.CheckConstraint(
            "event IN ('opened', 'resolved')", name=op.f("ck_webhook_deliveries_event")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rules.id"], name=op.f("fk_webhook_deliveries_rule_id_alert_rules")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_webhook_deliveries_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"),
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(op.f("ix_webhook_deliveries_alert_id"), "webhook_deliveries", ["alert_id"])


def _fill_secrets() -> None:
    rules = sa.table(
        "alert_rules",
        sa.column("id", _ID),
        sa.column("webhook_url", sa.Text()),
        sa.column("webhook_secret", sa.String(64)),
    )
    bind = op.get_bind()
    for rule_id, url in bind.execute(sa.select(rules.c.id, rules.c.webhook_url)).all():
        values = {"webhook_secret": "whsec_" + secrets.token_urlsafe(32)}
        if url and "@" in urlsplit(url).netloc:
            parts = urlsplit(url)
            values["webhook_url"] = urlunsplit(
                parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
            )
        bind.execute(sa.update(rules).where(rules.c.id == rule_id).values(**values))


@contextmanager
def _referrers_set_aside() -> Iterator[None]:
    """On SQLite, empty the tables that refer to ``alert_rules`` into temporary tables for the
    ``with`` block (the batch copy of ``alert_rules``), then put their rows back as they were
    (see the module docstring). Elsewhere the column is altered in place: nothing to do."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    for statement in _SET_ASIDE:
        bind.exec_driver_sql(statement)
    yield
    for statement in _PUT_BACK:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    """Drop the outbox and the secrets."""
    op.drop_index(op.f("ix_webhook_deliveries_alert_id"), table_name="webhook_deliveries")
    op.drop_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    with _referrers_set_aside(), op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("webhook_secret")
