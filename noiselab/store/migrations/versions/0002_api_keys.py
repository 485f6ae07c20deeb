"""API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds a table only, so existing
sensors and quarantine rows are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Create ``api_keys``: the secret is stored only as a per-key salt and its hash."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sensors", sa.Text(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('vendor', 'staff', 'admin')", name="ck_api_keys_role"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )


def downgrade() -> None:
    """Drop ``api_keys``."""
    op.drop_table("api_keys")
