"""The weather as a source of validity spans: the spans each sensor's weather station makes
invalid for long-term indicators (ISO 1996-2), as :class:`~noiselab.validity.spans.Span`."""

from noiselab.weather.spans import WeatherSpans

__all__ = ["WeatherSpans"]
