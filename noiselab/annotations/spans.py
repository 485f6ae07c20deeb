"""The annotations of a sensor as :class:`~noiselab.validity.Span` objects.

Each active (not withdrawn) annotation that concerns the sensor (names it, or names no sensor
and so concerns every one) and overlaps the asked range becomes one span of cause
``"annotation"``, clipped to the range, with ``reason`` ``"category: text"`` and ``excludes``
the annotation's ``exclude`` flag: an annotation that does not exclude only marks the period.
"""

from __future__ import annotations

from datetime import datetime

from noiselab.store.metadata import MetadataStore
from noiselab.validity import Span

__all__ = ["AnnotationSpans"]


class AnnotationSpans:
    """:class:`~noiselab.validity.SpanSource` over the annotations of ``meta``."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta

    def spans(self, sensor_id: str, start: datetime, end: datetime) -> list[Span]:
        """The spans of ``sensor_id`` overlapping ``[start, end)`` (aware datetimes), each
        clipped to it (Unix s), ordered by start. Blocking: reads the metadata database."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if not start < end:
            return []
        first, last = start.timestamp(), end.timestamp()
        return [
            Span(
                start=max(first, annotation.start.timestamp()),
                end=min(last, annotation.end.timestamp()),
                cause="annotation",
                reason=annotation.reason,
                excludes=annotation.exclude,
            )
            for annotation in self._meta.annotations.for_sensor(sensor_id, start, end)
        ]
