"""Staff annotations of periods and places.

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-05

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds tables only.

``annotations``: one row per annotation (a half-open period with a category, a reason, whether
it excludes the period from indicators and trials, an optional place with its radius, who made
it and when); a withdrawal fills the ``withdrawn_*`` columns and ``withdraw_reason`` of the same
row. Rows are never deleted. ``annotation_sensors``: the sensors an annotation concerns (none:
every sensor), resolved from the place when it was saved. All constraint names are given final
(``op.f()``), as the naming convention of the table definitions would make them. The downgrade
drops both tables, and with them the annotations.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``annotations`` (times in UTC, indexed by start) and ``annotation_sensors``
    (indexed by sensor)."""
    op.create_table(
        "annotations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place_lat", sa.Float(), nullable=True),
        sa.Column("place_lon", sa.Float(), nullable=True),
        sa.Column("place_radius_m", sa.Float(), nullable=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("exclude", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_key", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdrawn_by_key", sa.String(32), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "category IN ('roadworks', 'event', 'equipment', 'other')",
            name=op.f("ck_annotations_category"),
        ),
        sa.CheckConstraint('"start" < "end"', name=op.f("ck_annotations_range")),
        sa.CheckConstraint(
            "(place_lat IS NULL AND place_lon IS NULL AND place_radius_m IS NULL) OR "
            "(place_lat IS NOT NULL AND place_lon IS NOT NULL AND place_radius_m > 0)",
            name=op.f("ck_annotations_place"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(op.f("ix_annotations_start"), "annotations", ["start"])
    op.create_table(
        "annotation_sensors",
        sa.Column("annotation_id", _ID, nullable=False),
        sa.Column("sensor_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_sensors_annotation_id_annotations"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_annotation_sensors_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("annotation_id", "sensor_id", name=op.f("pk_annotation_sensors")),
    )
    op.create_index(op.f("ix_annotation_sensors_sensor_id"), "annotation_sensors", ["sensor_id"])


def downgrade() -> None:
    """Drop ``annotation_sensors`` and ``annotations``."""
    op.drop_index(op.f("ix_annotation_sensors_sensor_id"), table_name="annotation_sensors")
    op.drop_table("annotation_sensors")
    op.drop_index(op.f("ix_annotations_start"), table_name="annotations")
    op.drop_table("annotations")
