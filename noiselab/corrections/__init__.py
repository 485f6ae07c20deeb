"""Staff corrections applied where the platform computes indicators from stored history.

The corrections themselves (the audit log) live in the metadata database
(:mod:`noiselab.store.metadata.corrections`); the arithmetic is pure
(:mod:`noiselab.analysis.corrections`). This package reads a sensor's series from a
:class:`~noiselab.store.base.ReadingStore` and gives the corrected copy that the trial
evaluation and the daily indicators use (``overlay``); the levels apply the same ranges in the
store (``ReadingStore.valid_levels``). The stored readings stay as measured. Nothing here knows
HTTP.
"""

from noiselab.corrections.overlay import (
    active_ranges,
    corrected_bands,
    corrected_hours,
    corrected_series,
    validated_hours,
    validated_series,
)

__all__ = [
    "active_ranges",
    "corrected_bands",
    "corrected_hours",
    "corrected_series",
    "validated_hours",
    "validated_series",
]
