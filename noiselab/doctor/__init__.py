"""``noiselab doctor``: check a deployment with the services' own settings.

One module per family of checks (``broker``, ``sqlite_store``, ``influx``, ``metadata``,
``grafana``), each giving :class:`~noiselab.doctor.check.Step` objects; ``plan`` chooses them
from the settings, ``runner`` turns each into a :class:`~noiselab.doctor.check.Check` without
ever raising, and ``report`` prints them.
"""

from __future__ import annotations

from noiselab.doctor.check import Check, CheckFailed, CheckSkipped, Status, Step
from noiselab.doctor.plan import DoctorSettings, doctor_settings, planned_steps
from noiselab.doctor.report import report_lines
from noiselab.doctor.runner import run_step, run_steps

__all__ = [
    "Check",
    "CheckFailed",
    "CheckSkipped",
    "DoctorSettings",
    "Status",
    "Step",
    "doctor_settings",
    "planned_steps",
    "report_lines",
    "run_step",
    "run_steps",
]
