"""What in a sensor's data is valid for an answer: spans to leave out or flag, by cause."""

from noiselab.validity.plan import ALL_TIME, SensorValidity, Validity, WeatherChoice, minute_range
from noiselab.validity.spans import CAUSES, Cause, Span, SpanSource

__all__ = [
    "ALL_TIME",
    "CAUSES",
    "Cause",
    "SensorValidity",
    "Span",
    "SpanSource",
    "Validity",
    "WeatherChoice",
    "minute_range",
]
