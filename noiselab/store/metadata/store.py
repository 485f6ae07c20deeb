"""The metadata database: the sensor registry, the quarantine of rejected readings, the API
keys, the alerts, the vendor trials, the staff corrections and annotations, the citizens' noise
reports, the weather stations with their exclusion spans and the calibration log, each behind its
repository.

Metadata is not a time series: it lives in a relational database through SQLAlchemy 2 Core
(no ORM) with portable SQL — a SQLite file by default, PostgreSQL when several replicas run.
Alembic owns the schema: :class:`MetadataStore` migrates the database to the newest revision
when it opens it (serialised, so several processes may start at once).

Times are timezone-aware UTC ``datetime`` objects in Python; SQLite stores them as naive UTC
text, PostgreSQL as ``timestamptz``. Driver errors are translated to
:class:`~noiselab.errors.StoreError` (``StoreUnavailable`` when retrying may help).

Usage::

    with MetadataStore("sqlite:///var/noiselab/metadata.db") as meta:
        meta.sensors.add(load_sensors_file("sensors.csv"), replace=True)
        meta.quarantine.add(rejections)  # durable when it returns, idempotent
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from noiselab.errors import StoreError
from noiselab.store.closing import ClosesOnExit
from noiselab.store.metadata.alerts import AlertRepository
from noiselab.store.metadata.annotations import AnnotationRepository
from noiselab.store.metadata.calibrations import CalibrationRepository
from noiselab.store.metadata.citizen_reports import CitizenReportRepository
from noiselab.store.metadata.corrections import CorrectionRepository
from noiselab.store.metadata.deliveries import DeliveryRepository
from noiselab.store.metadata.engine import migrate, open_engine, translated
from noiselab.store.metadata.keys import KeyRepository
from noiselab.store.metadata.quarantine import QuarantineRepository
from noiselab.store.metadata.sensors import SensorRepository
from noiselab.store.metadata.trials import TrialRepository
from noiselab.store.metadata.weather import WeatherRepository
from noiselab.store.metadata.weather_exclusions import WeatherExclusionRepository

__all__ = ["MetadataStore"]


class MetadataStore(ClosesOnExit):
    """The metadata database, with one repository per concern: ``sensors``, ``quarantine``,
    ``keys``, ``alerts``, ``deliveries``, ``trials``, ``corrections``, ``annotations``,
    ``citizen_reports``, ``weather``, ``weather_exclusions`` and ``calibrations``.

    Opening migrates the schema to the newest Alembic revision (a no-op when it is current).
    Every repository method runs in its own transaction and is durable when it returns.
    Thread-safe: the engine pools connections. Use it as a context manager, or ``close()`` it.
    """

    def __init__(self, url: str) -> None:
        """Open (creating a SQLite file and its directory) and migrate ``url``, an SQLAlchemy
        URL such as ``sqlite:///PATH`` or ``postgresql+psycopg://user@host/db``."""
        self._engine = open_engine(url)
        try:
            with translated("migrate the schema"), self._engine.connect() as connection:
                migrate(connection)
                connection.commit()
        except CommandError as exc:
            self._engine.dispose()
            raise StoreError(f"metadata database {url!r}: migration failed: {exc}") from exc
        except BaseException:
            self._engine.dispose()
            raise
        self._insert = sqlite.insert if self._engine.dialect.name == "sqlite" else postgresql.insert
        self.sensors = SensorRepository(self)
        """The sensor registry (its source types cached for the InfluxDB adapter)."""
        self.quarantine = QuarantineRepository(self)
        """The rejected readings and messages."""
        self.keys = KeyRepository(self)
        """The API keys (salt and hash only)."""
        self.alerts = AlertRepository(self)
        """Alert rules, alerts and their history."""
        self.deliveries = DeliveryRepository(self)
        """The webhook outbox."""
        self.trials = TrialRepository(self)
        """Vendor trials."""
        self.corrections = CorrectionRepository(self)
        """Staff corrections of stored history (the audit log)."""
        self.citizen_reports = CitizenReportRepository(self)
        """Citizens' noise reports and their handling."""
        self.weather = WeatherRepository(self)
        """Weather stations and the station of each sensor."""
        self.weather_exclusions = WeatherExclusionRepository(self)
        """The spans each station's weather makes invalid (ISO 1996-2)."""
        self.calibrations = CalibrationRepository(self)
        """The calibration log: field calibrations and calibrator-tone checks."""
        self.annotations = AnnotationRepository(self)
        """Staff annotations of periods and places."""

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, shared by the repositories."""
        return self._engine

    def dialect_insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
        """An ``INSERT`` for ``table`` in this database's dialect (with ``on_conflict_*``)."""
        return self._insert(table)

    def close(self) -> None:
        """Close pooled connections; the database stays valid."""
        self._engine.dispose()
