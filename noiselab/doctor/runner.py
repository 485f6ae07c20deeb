"""Run the doctor's steps in order, turning every outcome into a :class:`Check`.

The runner never raises: a step that raises anything but :class:`CheckFailed` or
:class:`CheckSkipped` is reported as a failure carrying the error's type and message, so one
broken check cannot hide the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from noiselab.doctor.check import Check, CheckFailed, CheckSkipped, Status, Step

__all__ = ["UNEXPECTED_FIX", "run_step", "run_steps"]

UNEXPECTED_FIX = (
    "an unexpected error: the message above names it; rerun with the same settings and report"
    " it if it persists"
)


def run_step(step: Step) -> Check:
    """One step's outcome."""
    try:
        detail = step.run()
    except CheckFailed as exc:
        return Check(Status.FAIL, step.name, exc.detail, exc.fix)
    except CheckSkipped as exc:
        return Check(Status.SKIP, step.name, str(exc))
    except Exception as exc:  # the report goes on whatever a check raises
        return Check(Status.FAIL, step.name, f"{type(exc).__name__}: {exc}", UNEXPECTED_FIX)
    return Check(Status.OK, step.name, detail)


def run_steps(steps: Iterable[Step]) -> Iterator[Check]:
    """Each step's outcome, in order; a step whose ``requires`` did not all pass is skipped
    without running."""
    passed: set[str] = set()
    for step in steps:
        missing = [name for name in step.requires if name not in passed]
        if missing:
            yield Check(Status.SKIP, step.name, f"needs {', '.join(missing)}")
            continue
        check = run_step(step)
        if check.status is Status.OK:
            passed.add(step.name)
        yield check
