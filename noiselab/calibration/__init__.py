"""The calibration log as a service: logging field calibrations and tone checks, the drift
check that raises staff alerts, and the calibration-uncertain spans of a sensor's data.

- ``history``: a sensor's log with each entry's deviation and drift, and the drifted spans
- ``drift``: the drift check behind the ``calibration_drift`` alerts
- ``log``: logging an entry and checking it (API, command line, demo, the ingest's sink)
- ``spans``: :class:`CalibrationSpans`, the ``"calibration"`` :class:`~noiselab.validity.SpanSource`

The entries live in the metadata database (:mod:`noiselab.store.metadata.calibrations`); the
arithmetic is :mod:`noiselab.analysis.calibration`.
"""

from noiselab.calibration.drift import DriftCheck
from noiselab.calibration.history import HistoryEntry, drift_spans, with_drift
from noiselab.calibration.log import CalibrationLog, Logged, ToneCheckRecorder
from noiselab.calibration.spans import CalibrationSpans, span_reason

__all__ = [
    "CalibrationLog",
    "CalibrationSpans",
    "DriftCheck",
    "HistoryEntry",
    "Logged",
    "ToneCheckRecorder",
    "drift_spans",
    "span_reason",
    "with_drift",
]
