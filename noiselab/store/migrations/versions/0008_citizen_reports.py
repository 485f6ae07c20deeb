"""Citizens' noise reports and their handling.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-21

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds a table only.

``citizen_reports``: one row per "it is loud here now" report from the public map: when it
was loud, when it arrived, the place (WGS 84 degrees), a category and an optional text; no
personal data. Marking it handled fills ``status``, ``handled_at``, ``handled_by`` and
``handling_note`` of the same row. All constraint names are given final (``op.f()``), as the
naming convention of the table definitions would make them. The downgrade drops the table,
and with it the reports.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``citizen_reports`` (times in UTC) and its indexes by time and by status."""
    op.create_table(
        "citizen_reports",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("category", sa.String(8), nullable=False),
        sa.Column("text", sa.String(500), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(200), nullable=True),
        sa.Column("handling_note", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "category IN ('road', 'rail', 'other')", name=op.f("ck_citizen_reports_category")
        ),
        sa.CheckConstraint("status IN ('new', 'handled')", name=op.f("ck_citizen_reports_status")),
        sa.CheckConstraint(
            "(status = 'new' AND handled_at IS NULL AND handled_by IS NULL) OR "
            "(status = 'handled' AND handled_at IS NOT NULL AND handled_by IS NOT NULL)",
            name=op.f("ck_citizen_reports_handled"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_reports")),
    )
    op.create_index(op.f("ix_citizen_reports_ts"), "citizen_reports", ["ts"])
    op.create_index(op.f("ix_citizen_reports_status_ts"), "citizen_reports", ["status", "ts"])


def downgrade() -> None:
    """Drop ``citizen_reports``."""
    op.drop_index(op.f("ix_citizen_reports_status_ts"), table_name="citizen_reports")
    op.drop_index(op.f("ix_citizen_reports_ts"), table_name="citizen_reports")
    op.drop_table("citizen_reports")
