"""API keys of role ``sensor``: a device pushing readings over HTTP for the sensors it lists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Widens the role check of
``api_keys``; SQLite changes the constraint by copying the table (batch mode).

Constraint names: the naming convention of the application's metadata (``ck_<table>_<name>``)
applies to the names given here too. 0002 gave the full name ``ck_api_keys_role``, so the
database holds ``ck_api_keys_ck_api_keys_role`` up to this revision; this one replaces it by
``ck_api_keys_role`` (the name the table definitions give), and the downgrade puts the 0002
name back. ``op.f()`` marks a name as final, exempt from the convention.
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
        batch.drop_constraint(op.f("ck_api_keys_ck_api_keys_role"), type_="check")
        batch.create_check_constraint(
            op.f("ck_api_keys_role"), "role IN ('vendor', 'staff', 'admin', 'sensor')"
        )


def downgrade() -> None:
    """Refuse ``sensor`` again (delete such keys first)."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("ck_api_keys_role"), type_="check")
        batch.create_check_constraint(
            op.f("ck_api_keys_ck_api_keys_role"), "role IN ('vendor', 'staff', 'admin')"
        )
