"""Pure acoustics: numpy in, numbers out. Imports nothing else of noiselab.

Levels are dB re 20 µPa (A-weighted unless a name says Z), durations in seconds, timestamps
Unix seconds (UTC); local periods are computed in a named time zone (Europe/Copenhagen by
default). Every mean is energetic: ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``.

- ``decibels``: ``leq``, ``energetic_sum``, ``to_energy``, ``to_level``, ``round_db`` (0.01 dB)
- ``levels``: ``percentile_level``, ``exceedance_levels`` (L_N, time-weighted)
- ``arrays``: the ``FloatArray``, ``IntArray``, ``IndexArray`` and ``BoolArray`` types
- ``resample``: energetic aggregation into fixed or local-day buckets, built on ``readings``
  (validated readings sorted by start), ``segments`` (energy and seconds over any sorted
  edges, also behind ``periods``) and ``bucket_percentiles`` (each bucket's L10/L50/L90)
- ``periods``: Lday, Levening, Lnight, Lden (Danish 12/3/9 h by default), Ldn, LAeq,24h
- ``events``: pass-by detection over a running background, SEL, NA-style counts
- ``spectra``: third-octave centres (IEC 61260-1), A/C weighting (IEC 61672-1), band sums
- ``baci``: Before-After-Control-Impact with a day-block bootstrap; insertion loss
- ``quality``: coverage, gaps, message-counter gaps, stuck sensors
- ``guidelines``: the Danish guideline values and a classification against them
- ``weighting`` (import it directly; needs scipy, extra ``sensor``): A-weighting and Fast
  time weighting of sampled pressure per IEC 61672-1, a block-wise sound level meter
- ``alerting``: sliding-window levels, local-hour masks and rates for alert rules
- ``trial``: vendor-trial evaluation (sensor groups, matched hours, BACI, verdict, bands)
- ``geodesy``: great-circle distances (m) between WGS84 positions (haversine)
- ``corrections``: staff corrections (an excluded range, a dB offset) applied to a copy of
  a series, and the per-interval levels of corrected rows
"""

from noiselab.analysis.alerting import (
    held_throughout,
    local_hours_mask,
    quarantine_rate,
    window_levels,
)
from noiselab.analysis.baci import BaciResult, baci, insertion_loss, insertion_loss_paired
from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.corrections import RangeCorrection, apply_corrections
from noiselab.analysis.decibels import (
    energetic_sum,
    leq,
    leq_along,
    round_db,
    round_db_or_none,
    to_energy,
    to_level,
)
from noiselab.analysis.events import (
    Event,
    detect_events,
    number_above,
    running_background,
    time_above,
)
from noiselab.analysis.guidelines import GUIDELINES, GuidelineAssessment, classify, guideline_for
from noiselab.analysis.levels import exceedance_levels, percentile_level
from noiselab.analysis.periods import DayIndicators, composite_rating_level, lden
from noiselab.analysis.quality import coverage, find_gaps, find_stuck, seq_gaps
from noiselab.analysis.resample import Resampled, resample
from noiselab.analysis.spectra import (
    a_weighting,
    band_levels_to_laeq,
    c_weighting,
    third_octave_centres,
)
from noiselab.analysis.trial import TrialEvaluation, evaluate_trial

__all__ = [
    "GUIDELINES",
    "BaciResult",
    "DayIndicators",
    "Event",
    "Every",
    "GuidelineAssessment",
    "RangeCorrection",
    "Resampled",
    "TrialEvaluation",
    "a_weighting",
    "apply_corrections",
    "baci",
    "band_levels_to_laeq",
    "bucket_edges",
    "c_weighting",
    "classify",
    "composite_rating_level",
    "coverage",
    "detect_events",
    "energetic_sum",
    "evaluate_trial",
    "exceedance_levels",
    "find_gaps",
    "find_stuck",
    "guideline_for",
    "held_throughout",
    "insertion_loss",
    "insertion_loss_paired",
    "lden",
    "leq",
    "leq_along",
    "local_hours_mask",
    "number_above",
    "percentile_level",
    "quarantine_rate",
    "resample",
    "round_db",
    "round_db_or_none",
    "running_background",
    "seq_gaps",
    "third_octave_centres",
    "time_above",
    "to_energy",
    "to_level",
    "window_levels",
]
