"""Vendor trials: the BACI evaluation of a trial from the store, and its HTML report.

- ``evaluation``: reads the trial's hourly levels (and spectra) from the store, hands them to
  :mod:`noiselab.analysis.trial`, and caches recent evaluations
- ``report``: one evaluation as a self-contained HTML page (inline CSS and SVG, no scripts)
- ``citations``: how the answers and the report cite the staff corrections applied

The trials themselves live in the metadata database (:mod:`noiselab.store.metadata.trials`); the
HTTP endpoints are in :mod:`noiselab.api.routes.trials`. Nothing here knows HTTP.
"""

from noiselab.trials.citations import corrections_note
from noiselab.trials.evaluation import EvaluationCache, TrialResult, day_date, evaluate
from noiselab.trials.report import render_report

__all__ = [
    "EvaluationCache",
    "TrialResult",
    "corrections_note",
    "day_date",
    "evaluate",
    "render_report",
]
