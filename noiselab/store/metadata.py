"""The metadata database: the sensor registry, the quarantine of rejected readings and the API
keys (stored as salt and hash only; hashing lives in :mod:`noiselab.api.auth`).

Metadata is not a time series: it lives in a relational database through SQLAlchemy 2 Core
(no ORM) with portable SQL — a SQLite file by default, PostgreSQL when several replicas run.
Alembic owns the schema: :class:`MetadataStore` migrates the database to the newest revision
when it opens it (serialised, so several processes may start at once).

Times are timezone-aware UTC ``datetime`` objects in Python; SQLite stores them as naive UTC
text, PostgreSQL as ``timestamptz``. Driver errors are translated to
:class:`~noiselab.errors.StoreError` (``StoreUnavailable`` when retrying may help).

Usage::

    meta = MetadataStore("sqlite:///var/noiselab/metadata.db")
    meta.add_sensors(load_sensors_file("sensors.csv"), replace=True)
    meta.quarantine(rejections)  # durable when it returns, idempotent
    meta.close()
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

import msgspec
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry

from noiselab.errors import ConfigError, StoreError, StoreUnavailable
from noiselab.model import Rejection

__all__ = [
    "METADATA",
    "ROLES",
    "SENSOR_ID_PATTERN",
    "SOURCES",
    "ApiKey",
    "MetadataStore",
    "QuarantineEntry",
    "Role",
    "Sensor",
    "SensorSource",
    "load_sensors_file",
    "rejection_digest",
    "sensor_from_fields",
    "translated",
]

SENSOR_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
"""A sensor id, as in the MQTT topic ``noiselab/{sensor_id}/levels`` (matched in full)."""

SensorSource = Literal["road", "rail", "background"]
"""The noise source a sensor measures; ``None`` when unknown (auto-registered sensors)."""

SOURCES: frozenset[str] = frozenset(get_args(SensorSource))

Role = Literal["vendor", "staff", "admin", "sensor"]
"""The role of an API key; callers without a key are the public. A ``sensor`` key only pushes
readings over HTTP for the sensors it lists."""

ROLES: frozenset[str] = frozenset(get_args(Role))

MAX_NAME_LENGTH = 200
SOURCE_CACHE_S = 300.0
"""How long ``MetadataStore.source_of`` trusts a looked-up source type, s."""
SQLITE_BUSY_TIMEOUT_MS = 5000
_SQLITE_RETRYABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL})
_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x6E6F6973  # pg_advisory_xact_lock key that serialises migrations


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- records


class Sensor(msgspec.Struct, frozen=True, kw_only=True):
    """A registered sensor. ``lat``/``lon`` in decimal degrees (WGS 84), both or neither.

    ``public`` sensors appear on the public map and API. ``created`` is the registration time
    (aware, UTC); replacing a sensor keeps it. Invalid values raise ``ValueError``.
    """

    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    source: SensorSource | None = None
    description: str = ""
    public: bool = True
    created: datetime = msgspec.field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        _check_sensor_id(self.id)
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1-{MAX_NAME_LENGTH} characters")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} must be one of road, rail, background")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        _check_range("lat", self.lat, 90.0)
        _check_range("lon", self.lon, 180.0)
        if self.created.tzinfo is None:
            raise ValueError("created must be timezone-aware")


class QuarantineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A stored rejection: ``raw`` is the offending JSON value or payload, ``index`` its
    position in a batch (``None`` for a single reading or a bad message)."""

    id: int
    topic: str
    sensor_id: str | None
    raw: bytes
    reason: str
    received_at: datetime
    index: int | None


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key as stored, without its secret. ``sensors`` are the ids a vendor key may see
    besides the public sensors, or the ids a sensor key may push readings for (empty for
    staff and admin). ``revoked_at`` and ``last_used`` are
    aware UTC times or ``None``."""

    id: str
    name: str
    role: Role
    sensors: tuple[str, ...] = ()
    created: datetime = msgspec.field(default_factory=_utcnow)
    revoked_at: datetime | None = None
    last_used: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1-{MAX_NAME_LENGTH} characters")
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} must be one of vendor, staff, admin, sensor")
        if self.sensors and self.role not in ("vendor", "sensor"):
            raise ValueError("only vendor and sensor keys list sensors; staff and admin see all")
        if self.role == "sensor" and not self.sensors:
            raise ValueError("a sensor key must list the sensors it may push readings for")
        for sensor_id in self.sensors:
            _check_sensor_id(sensor_id)


def _check_sensor_id(sensor_id: str) -> None:
    if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
        raise ValueError(
            f"sensor id {sensor_id!r} must be 2-64 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit"
        )


def _check_range(name: str, value: float | None, bound: float) -> None:
    if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
        raise ValueError(f"{name} {value} is outside -{bound:g}..{bound:g}")


# --------------------------------------------------------------------------- schema


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


def rejection_digest(rejection: Rejection) -> str:
    """SHA-256 (hex) of what identifies a rejection: topic, raw and batch index.

    Each part is length-prefixed, so no two different rejections share an encoding. The
    receive time and the reason are left out on purpose: a re-delivered message is the same
    rejection, even when its reason names a time-dependent figure ("412.0 s in the future").
    """
    index = b"-" if rejection.index is None else str(rejection.index).encode()
    digest = hashlib.sha256()
    for part in (rejection.topic.encode(), rejection.raw, index):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# --------------------------------------------------------------------------- the store


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn SQLAlchemy errors into ``StoreError`` / ``StoreUnavailable`` naming ``action``."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        error = StoreUnavailable if _retryable(exc) else StoreError
        raise error(f"metadata database: cannot {action}: {exc.orig}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(f"metadata database: cannot {action}: {exc}") from exc


def _retryable(exc: sa_exc.DBAPIError) -> bool:
    """Busy, locked or full SQLite; a lost connection or an operational error elsewhere."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_RETRYABLE
    return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL (readers never block the writer), a busy timeout, durable commits."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    """Switch to WAL, waiting up to the busy timeout for another connection's transaction.

    A new file records WAL only when its first transaction commits, and changing the journal
    mode does not wait on the busy handler: a process opening the file while another one
    migrates it would fail at once with "database is locked" without this retry.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _create_engine(url: str) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise ConfigError(f"metadata URL {url!r}: not an SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"metadata URL {url!r}: expected sqlite:/// or postgresql://")
    database = parsed.database or ""
    if backend == "sqlite" and database not in ("", ":memory:") and ":" not in database[:5]:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"pool_pre_ping": backend != "sqlite"}
    if backend == "sqlite" and database in ("", ":memory:"):  # one shared connection
        options = {"poolclass": sa.pool.StaticPool}
    try:
        engine = sa.create_engine(parsed, **options)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise ConfigError(f"metadata URL {url!r}: {exc}") from exc
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _migrate(connection: Connection) -> None:
    """Upgrade to the newest revision inside ``connection``'s transaction, holding a lock
    (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock) so concurrent starts serialise."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(_MIGRATIONS))
    command.upgrade(config, "head")


class MetadataStore:
    """The sensor registry, the quarantine and the API keys, in a SQLAlchemy database.

    Opening migrates the schema to the newest Alembic revision (a no-op when it is current).
    Every method runs in its own transaction and is durable when it returns. Thread-safe: the
    engine pools connections.
    """

    def __init__(self, url: str) -> None:
        """Open (creating a SQLite file and its directory) and migrate ``url``, an SQLAlchemy
        URL such as ``sqlite:///PATH`` or ``postgresql+psycopg://user@host/db``."""
        self._engine = _create_engine(url)
        try:
            with translated("migrate the schema"), self._engine.connect() as connection:
                _migrate(connection)
                connection.commit()
        except CommandError as exc:
            self._engine.dispose()
            raise StoreError(f"metadata database {url!r}: migration failed: {exc}") from exc
        except BaseException:
            self._engine.dispose()
            raise
        self._insert = sqlite.insert if self._engine.dialect.name == "sqlite" else postgresql.insert
        self._sources: dict[str, tuple[str | None, float]] = {}

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the repositories that share this database
        (:mod:`noiselab.store.trials`, :mod:`noiselab.store.alerts`)."""
        return self._engine

    def dialect_insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
        """An ``INSERT`` for ``table`` in this database's dialect (with ``on_conflict_*``)."""
        return self._insert(table)

    # -- sensors

    def list_sensors(self) -> list[Sensor]:
        """All registered sensors, ordered by id."""
        query = sa.select(sensors_table).order_by(sensors_table.c.id)
        with translated("list sensors"), self._engine.connect() as connection:
            return [_sensor_from_row(row) for row in connection.execute(query).mappings()]

    def get_sensor(self, sensor_id: str) -> Sensor | None:
        """The sensor ``sensor_id``, or ``None`` when it is not registered."""
        query = sa.select(sensors_table).where(sensors_table.c.id == sensor_id)
        with translated("read a sensor"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _sensor_from_row(row)

    def add_sensors(self, sensors: Iterable[Sensor], *, replace: bool = False) -> int:
        """Register ``sensors``; return how many rows were written.

        Without ``replace`` an id that is already registered raises ``StoreError`` naming it
        and nothing is written. With ``replace`` existing sensors are updated (upsert; their
        ``created`` time is kept) and a repeated id in ``sensors`` means the last one wins.
        """
        given = list(sensors)
        rows = {sensor.id: _sensor_to_row(sensor) for sensor in given}
        if not rows:
            return 0
        if not replace and len(rows) != len(given):
            raise ValueError("the same sensor id is given twice")
        with translated("add sensors"), self._engine.begin() as connection:
            if replace:
                insert = self._insert(sensors_table)
                updated = {
                    name: insert.excluded[name]
                    for name in ("name", "lat", "lon", "source", "description", "public")
                }
                statement = insert.on_conflict_do_update(index_elements=["id"], set_=updated)
            else:
                _refuse_existing(connection, rows)
                statement = self._insert(sensors_table)
            connection.execute(statement, list(rows.values()))
        return len(rows)

    def register_unknown(self, sensor_ids: Iterable[str], now: float) -> int:
        """Auto-register sensors seen on the wire: named by their id, source unknown, not
        public, created at ``now`` (Unix seconds). Registered ids are left alone; returns how
        many were new. A malformed id raises ``ValueError``."""
        created = datetime.fromtimestamp(now, UTC)
        rows = [
            _sensor_to_row(Sensor(id=sid, name=sid, public=False, created=created))
            for sid in dict.fromkeys(sensor_ids)
        ]
        statement = self._insert(sensors_table).on_conflict_do_nothing(index_elements=["id"])
        return self._insert_new(statement, sensors_table.c.id, rows, "register sensors")

    def source_of(self, sensor_id: str) -> str | None:
        """The source type of ``sensor_id`` (``None`` when unknown or unregistered), cached for
        ``SOURCE_CACHE_S``: the InfluxDB adapter asks for it on every write."""
        now = time.monotonic()
        cached = self._sources.get(sensor_id)
        if cached is not None and now - cached[1] < SOURCE_CACHE_S:
            return cached[0]
        sensor = self.get_sensor(sensor_id)
        source = None if sensor is None else sensor.source
        self._sources[sensor_id] = (source, now)
        return source

    def known_ids(self) -> frozenset[str]:
        """The ids of all registered sensors (public or not)."""
        with translated("list sensor ids"), self._engine.connect() as connection:
            return frozenset(connection.execute(sa.select(sensors_table.c.id)).scalars())

    # -- quarantine

    def quarantine(self, rejections: Sequence[Rejection]) -> int:
        """Store ``rejections`` in one transaction, durable when it returns; return how many
        were new. Idempotent: a rejection with the same topic, raw, index and reason as a
        stored one (a re-delivered message) is not stored again."""
        rows: dict[str, dict[str, Any]] = {}
        for rejection in rejections:
            digest = rejection_digest(rejection)
            rows.setdefault(digest, _rejection_to_row(rejection, digest))
        statement = self._insert(quarantine_table).on_conflict_do_nothing(index_elements=["digest"])
        return self._insert_new(
            statement, quarantine_table.c.id, list(rows.values()), "quarantine rejections"
        )

    def list_quarantine(
        self, *, limit: int = 100, sensor_id: str | None = None
    ) -> list[QuarantineEntry]:
        """The newest ``limit`` quarantined rejections (newest first), of one sensor if
        ``sensor_id`` is given."""
        if limit < 1:
            raise ValueError(f"limit {limit} must be at least 1")
        table = quarantine_table
        query = sa.select(table).order_by(table.c.received_at.desc(), table.c.id.desc())
        if sensor_id is not None:
            query = query.where(table.c.sensor_id == sensor_id)
        with translated("list the quarantine"), self._engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [_entry_from_row(row) for row in rows]

    def quarantine_count(self) -> int:
        """How many rejections the quarantine holds."""
        query = sa.select(sa.func.count()).select_from(quarantine_table)
        with translated("count the quarantine"), self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def find_quarantine(
        self,
        *,
        sensor_id: str | None = None,
        reason: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[QuarantineEntry]:
        """Quarantined rejections, newest first (by id, the order they were stored).

        Filters: ``sensor_id``; ``reason`` containing that text (case-insensitive);
        ``received_at`` in ``[start, end)``. Pages: pass the last id seen as ``before_id``
        to get the next ``limit`` entries.
        """
        if limit < 1:
            raise ValueError(f"limit {limit} must be at least 1")
        table = quarantine_table
        query = sa.select(table).order_by(table.c.id.desc())
        if sensor_id is not None:
            query = query.where(table.c.sensor_id == sensor_id)
        if reason:
            query = query.where(
                sa.func.lower(table.c.reason).contains(reason.lower(), autoescape=True)
            )
        if start is not None:
            query = query.where(table.c.received_at >= start)
        if end is not None:
            query = query.where(table.c.received_at < end)
        if before_id is not None:
            query = query.where(table.c.id < before_id)
        with translated("search the quarantine"), self._engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [_entry_from_row(row) for row in rows]

    def get_quarantine(self, entry_id: int) -> QuarantineEntry | None:
        """The quarantined rejection ``entry_id``, or ``None``."""
        query = sa.select(quarantine_table).where(quarantine_table.c.id == entry_id)
        with translated("read a quarantine entry"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _entry_from_row(row)

    def quarantine_counts(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str | None, int]:
        """Rejections received in ``[since, until)`` per sensor id (``None``: no sensor id,
        e.g. a malformed topic); sensors without any are absent."""
        table = quarantine_table
        query = (
            sa.select(table.c.sensor_id, sa.func.count())
            .where(table.c.received_at >= since)
            .group_by(table.c.sensor_id)
        )
        if until is not None:
            query = query.where(table.c.received_at < until)
        with translated("count the quarantine"), self._engine.connect() as connection:
            return {sid: int(count) for sid, count in connection.execute(query).all()}

    # -- API keys

    def add_api_key(self, key: ApiKey, *, salt: bytes, digest: bytes) -> None:
        """Store ``key`` with the salt and hash of its secret (never the secret itself). An id
        that exists raises ``StoreError``."""
        row = msgspec.structs.asdict(key) | {
            "sensors": json.dumps(list(key.sensors)),
            "salt": salt,
            "hash": digest,
        }
        with translated("add an API key"), self._engine.begin() as connection:
            connection.execute(sa.insert(api_keys_table), [row])

    def api_key_secret(self, key_id: str) -> tuple[ApiKey, bytes, bytes] | None:
        """The key ``key_id`` with its salt and hash, or ``None`` when there is none."""
        query = sa.select(api_keys_table).where(api_keys_table.c.id == key_id)
        with translated("read an API key"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return _key_from_row(row), bytes(row["salt"]), bytes(row["hash"])

    def list_api_keys(self) -> list[ApiKey]:
        """All API keys (revoked ones included), oldest first."""
        table = api_keys_table
        query = sa.select(table).order_by(table.c.created, table.c.id)
        with translated("list API keys"), self._engine.connect() as connection:
            return [_key_from_row(row) for row in connection.execute(query).mappings()]

    def revoke_api_key(self, key_id: str, when: datetime | None = None) -> bool:
        """Mark ``key_id`` revoked at ``when`` (default now); return whether it existed. The
        first revocation time is kept when it is revoked again."""
        table = api_keys_table
        with translated("revoke an API key"), self._engine.begin() as connection:
            exists = connection.execute(sa.select(table.c.id).where(table.c.id == key_id)).first()
            connection.execute(
                sa.update(table)
                .where(table.c.id == key_id, table.c.revoked_at.is_(None))
                .values(revoked_at=when or _utcnow())
            )
        return exists is not None

    def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that ``key_id`` was used at ``when``."""
        statement = (
            sa.update(api_keys_table).where(api_keys_table.c.id == key_id).values(last_used=when)
        )
        with translated("record API key use"), self._engine.begin() as connection:
            connection.execute(statement)

    def close(self) -> None:
        """Close pooled connections; the database stays valid."""
        self._engine.dispose()

    def _insert_new(
        self,
        statement: sqlite.Insert | postgresql.Insert,
        key: sa.Column[Any],
        rows: list[dict[str, Any]],
        action: str,
    ) -> int:
        """Run an on-conflict-do-nothing insert of ``rows``; count the rows it inserted."""
        if not rows:
            return 0
        with translated(action), self._engine.begin() as connection:
            return len(connection.execute(statement.returning(key), rows).all())


def _refuse_existing(connection: Connection, rows: Mapping[str, object]) -> None:
    query = sa.select(sensors_table.c.id).where(sensors_table.c.id.in_(list(rows)))
    existing = sorted(connection.execute(query).scalars())
    if existing:
        names = ", ".join(existing)
        raise StoreError(f"sensors already registered: {names} (replace them to update)")


def _sensor_to_row(sensor: Sensor) -> dict[str, Any]:
    return msgspec.structs.asdict(sensor)


def _sensor_from_row(row: sa.RowMapping) -> Sensor:
    return Sensor(**cast("dict[str, Any]", dict(row)))


def _key_from_row(row: sa.RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        sensors=tuple(json.loads(row["sensors"])),
        created=row["created"],
        revoked_at=row["revoked_at"],
        last_used=row["last_used"],
    )


def _rejection_to_row(rejection: Rejection, digest: str) -> dict[str, Any]:
    return {
        "digest": digest,
        "topic": rejection.topic,
        "sensor_id": rejection.sensor_id,
        "raw": rejection.raw,
        "reason": rejection.reason,
        "received_at": datetime.fromtimestamp(rejection.received_at, UTC),
        "batch_index": rejection.index,
    }


def _entry_from_row(row: sa.RowMapping) -> QuarantineEntry:
    return QuarantineEntry(
        id=row["id"],
        topic=row["topic"],
        sensor_id=row["sensor_id"],
        raw=bytes(row["raw"]),
        reason=row["reason"],
        received_at=row["received_at"],
        index=row["batch_index"],
    )


# --------------------------------------------------------------------------- sensor files

_COLUMNS = ("id", "name", "lat", "lon", "source", "description", "public")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def load_sensors_file(path: str | Path) -> list[Sensor]:
    """Read sensors from a ``.json`` file (an array of objects, or ``{"sensors": [...]}``) or a
    ``.csv`` file with a header row; columns ``id,name,lat,lon,source,description,public``
    (``id`` and ``name`` required). Empty ``source`` means unknown; empty ``public`` means
    true. Raises ``ConfigError`` naming the file and the bad row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ConfigError(f"{path}: expected a .json or .csv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    rows = _json_rows(path, text) if suffix == ".json" else _csv_rows(path, text)
    sensors: list[Sensor] = []
    seen: dict[str, str] = {}
    for where, fields in rows:
        sensor = sensor_from_fields(fields, f"{path}: {where}")
        if sensor.id in seen:
            raise ConfigError(f"{path}: {where}: sensor id {sensor.id!r} repeats {seen[sensor.id]}")
        seen[sensor.id] = where
        sensors.append(sensor)
    return sensors


def _json_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(document, dict) and set(document) == {"sensors"}:
        document = document["sensors"]
    if not isinstance(document, list):
        raise ConfigError(f'{path}: expected a JSON array of sensors or {{"sensors": [...]}}')
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: sensor {number}: expected an object")
        yield f"sensor {number}", item


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    reader = csv.DictReader(text.splitlines(), restkey="\0extra")
    try:
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        if not header:
            raise ConfigError(f"{path}: empty file, expected a header row")
        reader.fieldnames = header
        for row in reader:
            where = f"line {reader.line_num}"
            if "\0extra" in row:
                raise ConfigError(f"{path}: {where}: more values than columns")
            yield where, {k: v for k, v in row.items() if v is not None}
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {reader.line_num}: {exc}") from exc


def sensor_from_fields(fields: Mapping[str, object], where: str = "sensor") -> Sensor:
    """A ``Sensor`` from loosely typed fields (a CSV row, a JSON object, CLI options): numbers
    may be text, ``public`` may be ``true/false/yes/no/1/0``, empty means unset. Raises
    ``ConfigError`` starting with ``where`` and naming the bad field."""
    unknown = sorted(set(fields) - set(_COLUMNS))
    if unknown:
        raise ConfigError(f"{where}: unknown column {unknown[0]!r}; expected {', '.join(_COLUMNS)}")
    label = f"{where} (id {fields['id']!r})" if "id" in fields else where
    try:
        return Sensor(
            id=_text(fields, "id", required=True),
            name=_text(fields, "name", required=True),
            lat=_number(fields.get("lat"), "lat"),
            lon=_number(fields.get("lon"), "lon"),
            source=cast("SensorSource | None", _text(fields, "source") or None),
            description=_text(fields, "description"),
            public=_flag(fields.get("public")),
        )
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from exc


def _text(fields: Mapping[str, object], column: str, *, required: bool = False) -> str:
    value = fields.get(column)
    if value is None or value == "":
        if required:
            raise ValueError(f"{column} is required")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, got {value!r}")
    return value.strip()


def _number(value: object, column: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{column} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{column} must be a number, got {value!r}") from None


def _flag(value: object) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"public must be true or false, got {value!r}")


# The other metadata repositories put their tables on METADATA; importing them here keeps
# METADATA complete (Alembic's comparison and env.py see every table) whichever is imported first.
from noiselab.store import alerts, trials  # noqa: E402, F401
