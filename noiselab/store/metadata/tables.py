"""The tables of the metadata database, all on one :data:`METADATA`.

``sensors``, ``quarantine`` and ``api_keys`` hold the registry; ``alert_rules``, ``alerts`` and
``alert_events`` the alerts (see :mod:`noiselab.store.metadata.alerts`) and
``webhook_deliveries`` their webhook outbox (:mod:`noiselab.store.metadata.deliveries`);
``trials`` the vendor trials; ``corrections`` the staff corrections of stored history (their
audit log, :mod:`noiselab.store.metadata.corrections`); ``citizen_reports`` the citizens' "it is
loud here now" reports and their handling (:mod:`noiselab.store.metadata.citizen_reports`);
``weather_stations`` the weather stations, ``sensor_weather`` which station each sensor takes its
weather from and ``weather_exclusions`` the spans of a station's time that its weather makes
invalid (:mod:`noiselab.store.metadata.weather`, :mod:`noiselab.store.metadata.weather_exclusions`);
``calibrations`` the log of field calibrations and calibrator-tone checks
(:mod:`noiselab.store.metadata.calibrations`); ``annotations`` with ``annotation_sensors``
the staff annotations of periods and places (:mod:`noiselab.store.metadata.annotations`).
Alembic (``migrations/``) owns the schema and must produce exactly these tables: its
``env.py`` compares against :data:`METADATA`.

Times are timezone-aware UTC ``datetime`` objects in Python (:class:`UtcDateTime`); SQLite
stores them as naive UTC text, PostgreSQL as ``timestamptz``. Sensor lists are JSON arrays in
text columns (portable SQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from noiselab.model import MAX_NAME_LENGTH

__all__ = [
    "METADATA",
    "UtcDateTime",
    "alert_events_table",
    "alert_rules_table",
    "alerts_table",
    "annotation_sensors_table",
    "annotations_table",
    "api_keys_table",
    "calibrations_table",
    "citizen_reports_table",
    "corrections_table",
    "quarantine_table",
    "sensor_weather_table",
    "sensors_table",
    "trials_table",
    "weather_exclusions_table",
    "weather_stations_table",
    "webhook_deliveries_table",
]


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC ``datetime``: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: expected timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""The tables as the code sees them; ``migrations/`` must produce exactly this schema."""

# --------------------------------------------------------------------------- the registry

sensors_table = sa.Table(
    "sensors",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("source", sa.String(16), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.CheckConstraint("source IN ('road', 'rail', 'background')", name="source"),
)

quarantine_table = sa.Table(
    "quarantine",
    METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("sensor_id", sa.String(64), nullable=True),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("batch_index", sa.Integer, nullable=True),
    sa.Index(None, "received_at"),
    sa.Index(None, "sensor_id", "received_at"),
)


api_keys_table = sa.Table(
    "api_keys",
    METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("sensors", sa.Text, nullable=False),  # a JSON array of sensor ids
    sa.Column("salt", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("last_used", UtcDateTime, nullable=True),
    sa.CheckConstraint("role IN ('vendor', 'staff', 'admin', 'sensor')", name="role"),
)

# --------------------------------------------------------------------------- alerts

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

alert_rules_table = sa.Table(
    "alert_rules",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("metric", sa.String(16), nullable=True),
    sa.Column("window_s", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("sensor_ids", sa.Text, nullable=False),  # a JSON array of sensor ids
    sa.Column("source", sa.String(16), nullable=True),
    sa.Column("local_from", sa.Integer, nullable=True),
    sa.Column("local_to", sa.Integer, nullable=True),
    sa.Column("min_duration_s", sa.Integer, nullable=False),
    sa.Column("cooldown_s", sa.Integer, nullable=False),
    sa.Column("webhook_url", sa.Text, nullable=True),
    # signs the webhooks; shown once when made, never read back by the API
    sa.Column("webhook_secret", sa.String(64), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("builtin", sa.Boolean, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("updated", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "kind IN ('level', 'offline', 'stuck', 'quarantine_rate', 'calibration_drift')",
        name="kind",
    ),
)

alerts_table = sa.Table(
    "alerts",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("rule_id", _ID, sa.ForeignKey("alert_rules.id"), nullable=False),
    sa.Column("sensor_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("open_key", sa.String(100), nullable=True, unique=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("last_held_at", UtcDateTime, nullable=False),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("last_value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # a JSON object
    sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="state"),
    sa.Index(None, "opened_at"),
    sa.Index(None, "rule_id", "sensor_id"),
)

alert_events_table = sa.Table(
    "alert_events",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", _ID, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("actor_key_id", sa.String(32), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Index(None, "alert_id"),
)

webhook_deliveries_table = sa.Table(
    "webhook_deliveries",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("rule_id", _ID, sa.ForeignKey("alert_rules.id"), nullable=False),
    sa.Column("alert_id", _ID, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the JSON body, exactly as sent
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claim", sa.String(32), nullable=True),  # the worker holding it until its lease
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("updated", UtcDateTime, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    sa.CheckConstraint("event IN ('opened', 'resolved')", name="event"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "alert_id"),
)

# --------------------------------------------------------------------------- trials

trials_table = sa.Table(
    "trials",
    METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("vendor", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("treated", sa.Text, nullable=False),  # a JSON array of sensor ids
    sa.Column("control", sa.Text, nullable=False),  # a JSON array of sensor ids
    sa.Column("before_start", UtcDateTime, nullable=False),
    sa.Column("before_end", UtcDateTime, nullable=False),
    sa.Column("after_start", UtcDateTime, nullable=False),
    sa.Column("after_end", UtcDateTime, nullable=False),
    sa.Column("hours", sa.Text, nullable=False),  # a JSON array of local hours, [] = all
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("updated", UtcDateTime, nullable=False),
    sa.Index(None, "vendor"),
)

# --------------------------------------------------------------------------- corrections

corrections_table = sa.Table(
    "corrections",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("sensor_id", sa.String(64), sa.ForeignKey("sensors.id"), nullable=False),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("offset_db", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("created_by_key", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("withdrawn_at", UtcDateTime, nullable=True),
    sa.Column("withdrawn_by", sa.String(MAX_NAME_LENGTH), nullable=True),
    sa.Column("withdrawn_by_key", sa.String(32), nullable=True),
    sa.Column("withdraw_reason", sa.Text, nullable=True),
    sa.CheckConstraint("kind IN ('exclude', 'offset')", name="kind"),
    sa.CheckConstraint(
        "(kind = 'exclude' AND offset_db IS NULL) OR (kind = 'offset' AND offset_db IS NOT NULL)",
        name="offset",
    ),
    sa.CheckConstraint('"start" < "end"', name="range"),
    sa.Index(None, "sensor_id", "start"),
)

# --------------------------------------------------------------------------- citizens' reports

citizen_reports_table = sa.Table(
    "citizen_reports",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("ts", UtcDateTime, nullable=False),  # when it was loud
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("category", sa.String(8), nullable=False),
    sa.Column("text", sa.String(500), nullable=True),  # no personal data is asked or stored
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("handled_at", UtcDateTime, nullable=True),
    sa.Column("handled_by", sa.String(MAX_NAME_LENGTH), nullable=True),
    sa.Column("handling_note", sa.String(500), nullable=True),
    sa.CheckConstraint("category IN ('road', 'rail', 'other')", name="category"),
    sa.CheckConstraint("status IN ('new', 'handled')", name="status"),
    sa.CheckConstraint(
        "(status = 'new' AND handled_at IS NULL AND handled_by IS NULL) OR "
        "(status = 'handled' AND handled_at IS NOT NULL AND handled_by IS NOT NULL)",
        name="handled",
    ),
    sa.Index(None, "ts"),
    sa.Index(None, "status", "ts"),
)


# --------------------------------------------------------------------------- weather

weather_stations_table = sa.Table(
    "weather_stations",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("height_m", sa.Float, nullable=False),  # of the anemometer above ground
    sa.Column("created", UtcDateTime, nullable=False),
    sa.CheckConstraint("height_m > 0.1 AND height_m <= 200", name="height"),
)

sensor_weather_table = sa.Table(
    "sensor_weather",
    METADATA,
    sa.Column("sensor_id", sa.String(64), sa.ForeignKey("sensors.id"), primary_key=True),
    sa.Column("station_id", sa.String(64), sa.ForeignKey("weather_stations.id"), nullable=False),
    sa.Index(None, "station_id"),
)

weather_exclusions_table = sa.Table(
    "weather_exclusions",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(64), sa.ForeignKey("weather_stations.id"), nullable=False),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("wind_ms", sa.Float, nullable=True),  # highest mean wind at the microphone
    sa.Column("wind_station_ms", sa.Float, nullable=True),  # ... and at the anemometer
    sa.Column("precipitation_mm", sa.Float, nullable=True),  # most in one observation
    sa.Column("reason", sa.Text, nullable=False),
    sa.CheckConstraint('"start" < "end"', name="range"),
    sa.Index(None, "station_id", "start"),
)


# --------------------------------------------------------------------------- calibrations

calibrations_table = sa.Table(
    "calibrations",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("sensor_id", sa.String(64), sa.ForeignKey("sensors.id"), nullable=False),
    sa.Column("ts", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("reference_db", sa.Float, nullable=False),
    sa.Column("before_db", sa.Float, nullable=False),
    sa.Column("after_db", sa.Float, nullable=True),
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("note", sa.String(500), nullable=False),
    sa.Column("created_by_key", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # "tone:<sensor>:<ts ms>" for a tone check (a re-delivery is stored once); NULL for field
    sa.Column("repeat_key", sa.String(100), nullable=True, unique=True),
    sa.Column("withdrawn_at", UtcDateTime, nullable=True),
    sa.Column("withdrawn_by", sa.String(MAX_NAME_LENGTH), nullable=True),
    sa.Column("withdraw_reason", sa.Text, nullable=True),
    sa.CheckConstraint("kind IN ('field', 'tone')", name="kind"),
    sa.CheckConstraint("kind = 'field' OR after_db IS NULL", name="tone_adjusts_nothing"),
    sa.Index(None, "sensor_id", "ts"),
)


# --------------------------------------------------------------------------- annotations

annotations_table = sa.Table(
    "annotations",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("place_lat", sa.Float, nullable=True),
    sa.Column("place_lon", sa.Float, nullable=True),
    sa.Column("place_radius_m", sa.Float, nullable=True),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("exclude", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("created_by_key", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("withdrawn_at", UtcDateTime, nullable=True),
    sa.Column("withdrawn_by", sa.String(MAX_NAME_LENGTH), nullable=True),
    sa.Column("withdrawn_by_key", sa.String(32), nullable=True),
    sa.Column("withdraw_reason", sa.Text, nullable=True),
    sa.CheckConstraint("category IN ('roadworks', 'event', 'equipment', 'other')", name="category"),
    sa.CheckConstraint('"start" < "end"', name="range"),
    sa.CheckConstraint(
        "(place_lat IS NULL AND place_lon IS NULL AND place_radius_m IS NULL) OR "
        "(place_lat IS NOT NULL AND place_lon IS NOT NULL AND place_radius_m > 0)",
        name="place",
    ),
    sa.Index(None, "start"),
)

annotation_sensors_table = sa.Table(
    "annotation_sensors",
    METADATA,
    sa.Column("annotation_id", _ID, sa.ForeignKey("annotations.id"), primary_key=True),
    sa.Column("sensor_id", sa.String(64), sa.ForeignKey("sensors.id"), primary_key=True),
    sa.Index(None, "sensor_id"),
)
"""The sensors an annotation concerns; none: every sensor."""
