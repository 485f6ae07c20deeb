"""The doctor's report: one line per check, and an indented ``fix:`` line under a failure."""

from __future__ import annotations

from noiselab.doctor.check import Check

__all__ = ["NAME_WIDTH", "report_lines"]

NAME_WIDTH = 36
"""Width of the name column (the longest name, ``grafana datasource noiselab-influxdb``)."""


def report_lines(check: Check) -> list[str]:
    """``status  name  detail`` and, for a failure, ``      fix: ...``."""
    lines = [f"{check.status.value:<5} {check.name:<{NAME_WIDTH}} {check.detail}"]
    if check.fix:
        lines.append(f"{'':<6}fix: {check.fix}")
    return lines
