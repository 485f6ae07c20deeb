"""Weather stations, the sensors' stations and the spans their weather makes invalid.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-21

Self-contained on purpose: a migration describes the schema as it was at this revision and
never imports the application's current table definitions. Adds tables only.

``weather_stations``: one row per station (id like a sensor id, name, position, the height of
its anemometer in m). ``sensor_weather``: the station each sensor takes its weather from (at
most one). ``weather_exclusions``: per station, merged half-open spans ``[start, end)`` in UTC
that its observations make invalid (ISO 1996-2: wind above 5 m/s at the microphone, or
precipitation), with the highest wind, the most precipitation of one observation and the reason.
The downgrade drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``weather_stations``, ``sensor_weather`` and ``weather_exclusions``."""
    op.create_table(
        "weather_stations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("height_m", sa.Float(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "height_m > 0.1 AND height_m <= 200", name=op.f("ck_weather_stations_height")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather_stations")),
    )
    op.create_table(
        "sensor_weather",
        sa.Column("sensor_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_sensor_weather_sensor_id_sensors")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["weather_stations.id"],
            name=op.f("fk_sensor_weather_station_id_weather_stations"),
        ),
        sa.PrimaryKeyConstraint("sensor_id", name=op.f("pk_sensor_weather")),
    )
    op.create_index(op.f("ix_sensor_weather_station_id"), "sensor_weather", ["station_id"])
    op.create_table(
        "weather_exclusions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wind_ms", sa.Float(), nullable=True),
        sa.Column("wind_station_ms", sa.Float(), nullable=True),
        sa.Column("precipitation_mm", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint('"start" < "end"', name=op.f("ck_weather_exclusions_range")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["weather_stations.id"],
            name=op.f("fk_weather_exclusions_station_id_weather_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather_exclusions")),
    )
    op.create_index(
        op.f("ix_weather_exclusions_station_id_start"),
        "weather_exclusions",
        ["station_id", "start"],
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index(op.f("ix_weather_exclusions_station_id_start"), table_name="weather_exclusions")
    op.drop_table("weather_exclusions")
    op.drop_index(op.f("ix_sensor_weather_station_id"), table_name="sensor_weather")
    op.drop_table("sensor_weather")
    op.drop_table("weather_stations")
