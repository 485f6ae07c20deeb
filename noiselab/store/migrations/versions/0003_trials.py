"""Vendor trials.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds a table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Create ``trials``: sensor lists and hours of day as JSON arrays, times in UTC."""
    op.create_table(
        "trials",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("vendor", sa.String(200), nullable=False),
        sa.Column("treated", sa.Text(), nullable=False),
        sa.Column("control", sa.Text(), nullable=False),
        sa.Column("before_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
    )
    op.create_index("ix_trials_vendor", "trials", ["vendor"])


def downgrade() -> None:
    """Drop ``trials``."""
    op.drop_index("ix_trials_vendor", table_name="trials")
    op.drop_table("trials")
