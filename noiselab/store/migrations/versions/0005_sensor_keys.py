"""API keys of role ``sensor``: a device pushing readings over HTTP for the sensors it lists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Widens the role check of
``api_keys``; SQLite changes the constraint by copying the table (batch mode).
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Allow the role ``sensor``."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("ck_api_keys_role", type_="check")
        batch.create_check_constraint("role", "role IN ('vendor', 'staff', 'admin', 'sensor')")


def downgrade() -> None:
    """Refuse ``sensor`` again (delete such keys first)."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("ck_api_keys_role", type_="check")
        batch.create_check_constraint("role", "role IN ('vendor', 'staff', 'admin')")
