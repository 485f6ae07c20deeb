"""Staff corrections of stored history: their audit log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds a table only.

``corrections``: one row per correction of a sensor's range (an exclusion, or an offset in dB)
with its reason, who made it and when; a withdrawal fills the ``withdrawn_*`` columns and
``withdraw_reason`` of the same row. Rows are never deleted. All constraint names are given
final (``op.f()``), as the naming convention of the table definitions would make them. The
downgrade drops the table, and with it the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``corrections`` (times in UTC) and its index by sensor and start."""
    op.create_table(
        "corrections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sensor_id", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("offset_db", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_key", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdrawn_by_key", sa.String(32), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('exclude', 'offset')", name=op.f("ck_corrections_kind")),
        sa.CheckConstraint(
            "(kind = 'exclude' AND offset_db IS NULL) OR (kind = 'offset' AND offset_db IS NOT "
            "NULL)",
            name=op.f("ck_corrections_offset"),
        ),
        sa.CheckConstraint('"start" < "end"', name=op.f("ck_corrections_range")),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_corrections_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_sensor_id_start"), "corrections", ["sensor_id", "start"])


def downgrade() -> None:
    """Drop ``corrections``."""
    op.drop_index(op.f("ix_corrections_sensor_id_start"), table_name="corrections")
    op.drop_table("corrections")
