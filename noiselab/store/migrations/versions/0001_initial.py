"""Sensor registry and quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Create ``sensors`` and ``quarantine``."""
    op.create_table(
        "sensors",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('road', 'rail', 'background')", name="ck_sensors_source"),
        sa.PrimaryKeyConstraint("id", name="pk_sensors"),
    )
    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("sensor_id", sa.String(64), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("digest", name="uq_quarantine_digest"),
    )
    op.create_index("ix_quarantine_received_at", "quarantine", ["received_at"])
    op.create_index(
        "ix_quarantine_sensor_id_received_at", "quarantine", ["sensor_id", "received_at"]
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("quarantine")
    op.drop_table("sensors")
