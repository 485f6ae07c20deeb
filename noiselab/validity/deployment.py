"""The span sources of a deployment, read from its metadata database: the weather stations'
exclusion spans, the staff annotations and the calibration log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from noiselab.annotations.spans import AnnotationSpans
from noiselab.calibration.spans import CalibrationSpans
from noiselab.store.metadata import MetadataStore
from noiselab.validity.plan import Validity
from noiselab.weather.spans import WeatherSpans

__all__ = ["deployment_validity"]


def deployment_validity(meta: MetadataStore, zone: ZoneInfo, *, keep: bool = False) -> Validity:
    """Every source of spans that ``meta`` holds (``zone`` words the calibration dates). With
    ``keep``, what the weather stations excluded is read once per station and range: for one
    report over many sensors, not for a long-lived reader."""
    return Validity(
        {
            "weather": WeatherSpans(meta, keep=keep),
            "annotation": AnnotationSpans(meta),
            "calibration": CalibrationSpans(meta, zone),
        }
    )
