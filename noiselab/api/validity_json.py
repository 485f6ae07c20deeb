"""The fields by which an answer says what a sensor's validity (:mod:`noiselab.validity`) left
out of it and flagged: shared by the answers that apply it (daily indicators, levels)."""

from __future__ import annotations

from collections.abc import Mapping

from noiselab.analysis.corrections import EXCLUSION_ORDER
from noiselab.model import rfc3339, utc
from noiselab.validity import SensorValidity, Span, WeatherChoice

__all__ = ["MAX_SPANS_LISTED", "span_json", "validity_json"]

MAX_SPANS_LISTED = 500
"""Exclusion and calibration spans listed in one answer (their seconds are all counted)."""


def span_json(span: Span) -> dict[str, object]:
    """A span as ``SpanOut`` describes it."""
    return {
        "start": rfc3339(utc(span.start)),
        "end": rfc3339(utc(span.end)),
        "cause": span.cause,
        "reason": span.reason,
    }


def validity_json(
    valid: SensorValidity | None,
    span: tuple[float, float],
    excluded_s: Mapping[str, float],
    weather: WeatherChoice,
) -> dict[str, object]:
    """``weather``, ``excluded_s`` (measured seconds left out of ``span`` (Unix s) by cause,
    to the millisecond), ``exclusions`` (the staff annotations that excluded data; weather
    spans are counted, not listed) and ``calibration_uncertain``. ``valid`` None: nothing
    applied (the levels as measured), no spans listed."""
    t0, t1 = span
    applied = [] if valid is None else valid.exclusions(t0, t1)
    flagged = [] if valid is None else valid.flags(t0, t1)
    return {
        "weather": weather,
        "excluded_s": {c: round(excluded_s.get(c, 0.0), 3) for c in EXCLUSION_ORDER},
        "exclusions": [span_json(s) for s in applied if s.cause != "weather"][:MAX_SPANS_LISTED],
        "calibration_uncertain": [span_json(s) for s in flagged][:MAX_SPANS_LISTED],
    }
