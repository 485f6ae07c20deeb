"""The metadata database: sensor registry, quarantine, API keys, alerts and vendor trials.

:class:`MetadataStore` opens (and migrates) the database and holds one repository per concern:
``meta.sensors`` (:class:`SensorRepository`), ``meta.quarantine``
(:class:`QuarantineRepository`), ``meta.keys`` (:class:`KeyRepository`), ``meta.alerts``
(:class:`AlertRepository`), ``meta.deliveries`` (:class:`DeliveryRepository`, the webhook
outbox), ``meta.trials`` (:class:`TrialRepository`) and ``meta.corrections``
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

__all__ = [
    "ALERT_STATES",
    "ANNOTATION_CATEGORIES",
    "DELIVERY_STATES",
    "EVALUATOR",
    "MAX_ANNOTATION_DAYS",
    "MAX_ANNOTATION_SENSORS",
    "MAX_ANNOTATION_TEXT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_OFFSET_DB",
    "MAX_PHASE_DAYS",
    "MAX_PLACE_RADIUS_M",
    "MAX_REASON_LENGTH",
    "MAX_SENSORS",
    "METADATA",
    "RULE_KINDS",
    "Alert",
    "AlertEvent",
    "AlertRepository",
    "AlertRule",
    "AlertState",
    "AlreadyWithdrawn",
    "AlreadyWithdrawnAnnotation",
    "Annotation",
    "AnnotationCategory",
    "AnnotationRepository",
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
    "RuleInUse",
    "RuleKind",
    "SensorRepository",
    "TransitionError",
    "Trial",
    "TrialRepository",
    "UnknownSensor",
    "UnknownSensors",
    "load_sensors_file",
    "new_trial_id",
    "rejection_digest",
    "sensor_from_fields",
    "translated",
    "webhook_payload",
]
