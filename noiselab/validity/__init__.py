"""What in a sensor's data is valid for an answer: spans to leave out or flag, by cause."""

from noiselab.validity.spans import CAUSES, Cause, Span, SpanSource

__all__ = ["CAUSES", "Cause", "Span", "SpanSource"]
