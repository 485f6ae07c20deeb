"""The metadata database: sensor registry, quarantine, API keys, alerts and vendor trials.

:class:`MetadataStore` opens (and migrates) the database and holds one repository per concern:
``meta.sensors`` (:class:`SensorRepository`), ``meta.quarantine``
(:class:`QuarantineRepository`), ``meta.keys`` (:class:`KeyRepository`), ``meta.alerts``
(:class:`AlertRepository`), ``meta.deliveries`` (:class:`DeliveryRepository`, the webhook
outbox), ``meta.trials`` (:class:`TrialRepository`) and ``meta.corrections``
(:class:`CorrectionRepository`, the audit log of staff corrections) and
``meta.citizen_reports`` (:class:`CitizenReportRepository`, citizens' noise reports). The
domain records they store (``Sensor``, ``ApiKey``) live in :mod:`noiselab.model`; the tables in
(:class:`CorrectionRepository`, the audit log of staff corrections), ``meta.weather``
(:class:`WeatherRepository`, weather stations and the sensors' stations) and
``meta.weather_exclusions`` (:class:`WeatherExclusionRepository`). The domain records
(:class:`CorrectionRepository`, the audit log of staff corrections) and ``meta.calibrations``
(:class:`CalibrationRepository`, the calibration log). The domain records
(:class:`CorrectionRepository`, the audit log of staff corrections) and ``meta.annotations``
(:class:`AnnotationRepository`, staff annotations of periods and places). The domain records
they store (``Sensor``, ``ApiKey``) live in :mod:`noiselab.model`; the tables in
:mod:`noiselab.store.metadata.tables`; the engine, migration and error translation in
:mod:`noiselab.store.metadata.engine`.

Modules inside this package import each other directly, never through this face.

Usage::

    with MetadataStore("sqlite:///var/noiselab/metadata.db") as meta:
        meta.sensors.add(load_sensors_file("sensors.csv"), replace=True)
        meta.quarantine.add(rejections)  # durable when it returns, idempotent
"""

from __future__ import annotations

from noiselab.store.metadata.alert_rules import (
    ALERT_STATES,
    EVALUATOR,
    LOGGED_KINDS,
    RULE_KINDS,
    Alert,
    AlertEvent,
    AlertRule,
    AlertState,
    Metric,
    RuleInUse,
    RuleKind,
    TransitionError,
)
from noiselab.store.metadata.alerts import AlertRepository
from noiselab.store.metadata.annotation_records import (
    ANNOTATION_CATEGORIES,
    MAX_ANNOTATION_DAYS,
    MAX_ANNOTATION_SENSORS,
    MAX_ANNOTATION_TEXT,
    MAX_PLACE_RADIUS_M,
    AlreadyWithdrawnAnnotation,
    Annotation,
    AnnotationCategory,
    NoSensorsNearby,
    Place,
)
from noiselab.store.metadata.annotations import AnnotationRepository
from noiselab.store.metadata.calibrations import (
    TONE_CHECK_BY,
    Calibration,
    CalibrationKind,
    CalibrationRepository,
    CalibrationWithdrawn,
    ToneCheckConflict,
    UnknownCalibrationSensor,
    tone_differences,
)
from noiselab.store.metadata.citizen_reports import (
    CATEGORIES,
    MAX_NOTE_LENGTH,
    MAX_TEXT_LENGTH,
    REPORT_STATES,
    AlreadyHandled,
    CitizenReport,
    CitizenReportRepository,
    ReportCategory,
    ReportState,
    has_control_characters,
)
from noiselab.store.metadata.corrections import (
    MAX_OFFSET_DB,
    MAX_REASON_LENGTH,
    AlreadyWithdrawn,
    Correction,
    CorrectionRepository,
    UnknownSensor,
)
from noiselab.store.metadata.deliveries import (
    DELIVERY_STATES,
    Claimed,
    Delivery,
    DeliveryRepository,
    DeliveryState,
    NotDead,
    webhook_payload,
)
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.keys import KeyRepository
from noiselab.store.metadata.quarantine import (
    QuarantineEntry,
    QuarantineRepository,
    rejection_digest,
)
from noiselab.store.metadata.sensor_files import load_sensors_file, sensor_from_fields
from noiselab.store.metadata.sensors import SensorRepository
from noiselab.store.metadata.store import MetadataStore
from noiselab.store.metadata.tables import METADATA
from noiselab.store.metadata.trials import (
    MAX_DESCRIPTION_LENGTH,
    MAX_PHASE_DAYS,
    MAX_SENSORS,
    Trial,
    TrialRepository,
    UnknownSensors,
    new_trial_id,
)
from noiselab.store.metadata.weather import (
    DEFAULT_ANEMOMETER_M,
    UnknownStation,
    WeatherRepository,
    WeatherStation,
)
from noiselab.store.metadata.weather_exclusions import (
    WeatherExclusion,
    WeatherExclusionRepository,
)

__all__ = [
    "ALERT_STATES",
    "ANNOTATION_CATEGORIES",
    "CATEGORIES",
    "DEFAULT_ANEMOMETER_M",
    "DELIVERY_STATES",
    "EVALUATOR",
    "LOGGED_KINDS",
    "MAX_ANNOTATION_DAYS",
    "MAX_ANNOTATION_SENSORS",
    "MAX_ANNOTATION_TEXT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NOTE_LENGTH",
    "MAX_OFFSET_DB",
    "MAX_PHASE_DAYS",
    "MAX_PLACE_RADIUS_M",
    "MAX_REASON_LENGTH",
    "MAX_SENSORS",
    "MAX_TEXT_LENGTH",
    "METADATA",
    "REPORT_STATES",
    "RULE_KINDS",
    "TONE_CHECK_BY",
    "Alert",
    "AlertEvent",
    "AlertRepository",
    "AlertRule",
    "AlertState",
    "AlreadyHandled",
    "AlreadyWithdrawn",
    "AlreadyWithdrawnAnnotation",
    "Annotation",
    "AnnotationCategory",
    "AnnotationRepository",
    "Calibration",
    "CalibrationKind",
    "CalibrationRepository",
    "CalibrationWithdrawn",
    "CitizenReport",
    "CitizenReportRepository",
    "Claimed",
    "Correction",
    "CorrectionRepository",
    "Database",
    "Delivery",
    "DeliveryRepository",
    "DeliveryState",
    "KeyRepository",
    "MetadataStore",
    "Metric",
    "NoSensorsNearby",
    "NotDead",
    "Place",
    "QuarantineEntry",
    "QuarantineRepository",
    "ReportCategory",
    "ReportState",
    "RuleInUse",
    "RuleKind",
    "SensorRepository",
    "ToneCheckConflict",
    "TransitionError",
    "Trial",
    "TrialRepository",
    "UnknownCalibrationSensor",
    "UnknownSensor",
    "UnknownSensors",
    "UnknownStation",
    "WeatherExclusion",
    "WeatherExclusionRepository",
    "WeatherRepository",
    "WeatherStation",
    "has_control_characters",
    "load_sensors_file",
    "new_trial_id",
    "rejection_digest",
    "sensor_from_fields",
    "tone_differences",
    "translated",
    "webhook_payload",
]
