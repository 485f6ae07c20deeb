"""How a trial's answers and report cite the staff corrections behind its evaluation.

Every correction overlapping the trial's sensors and periods is cited: the active ones were
applied, the withdrawn ones were not (and are named as such). With none, the evaluation says
that it used the data as measured.
"""

from __future__ import annotations

from collections.abc import Sequence

from noiselab.store.metadata import Correction
from noiselab.trials.evaluation import TrialResult

__all__ = ["NONE_APPLIED", "corrections_note"]

NONE_APPLIED = "No corrections were applied: the evaluation uses the data as measured."


def _ids(corrections: Sequence[Correction]) -> str:
    return ", ".join(str(c.id) for c in corrections)


def corrections_note(result: TrialResult) -> str:
    """One or two sentences: which corrections were applied (by id), and which overlapping
    ones were withdrawn and so not applied."""
    applied = result.applied
    withdrawn = [c for c in result.corrections if not c.active]
    if applied:
        n = len(applied)
        text = (
            f"{n} staff correction{'s' if n > 1 else ''} applied (id {_ids(applied)}): excluded "
            "ranges are left out and offsets added to the levels; the stored readings are "
            "unchanged."
        )
    else:
        text = NONE_APPLIED
    if withdrawn:
        text += f" Withdrawn, so not applied: id {_ids(withdrawn)}."
    return text
